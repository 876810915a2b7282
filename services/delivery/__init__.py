"""Clients that deliver invoices to customers and events to webhooks: SMTP, WhatsApp, HTTP."""
