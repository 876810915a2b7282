"""SuoOps services: the invoice service, the renderer fleet and the command line."""
