"""service_layer."""
