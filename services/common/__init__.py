"""Pieces every SuoOps process shares: settings, logging, gRPC plumbing."""
