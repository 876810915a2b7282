"""The renderer fleet: turns invoices into PDFs and stores them in S3."""
