"""The REST-to-gRPC gateway."""
