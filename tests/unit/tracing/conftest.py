"""Tracing fixtures for these tests."""

from tests.support.spans import finished_spans

__all__ = ["finished_spans"]
