"""The error a failed render reports names the exception, multi-line messages included."""

from __future__ import annotations

import pytest

from services.common.job_messages import last_error_line

pytestmark = pytest.mark.unit

GRPC_TRACEBACK = """Traceback (most recent call last):
  File "/work/main/services/renderer/actors.py", line 51, in render_invoice
    if not callbacks.started(invoice_id, generation):
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/grpc/_channel.py", line 999, in _end_unary_response_blocking
    raise _InactiveRpcError(state)
grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:
\tstatus = StatusCode.UNAVAILABLE
\tdetails = "failed to connect"
>
"""


def test_a_multi_line_exception_is_reported_whole() -> None:
    error = last_error_line(GRPC_TRACEBACK)
    assert error.startswith("grpc._channel._InactiveRpcError:")
    assert "StatusCode.UNAVAILABLE" in error and error.endswith(">")


def test_a_one_line_exception_is_its_line() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "    g()\n"
        "RenderTimeout: killed"
    )
    assert last_error_line(text) == "RenderTimeout: killed"


def test_no_traceback_still_says_something() -> None:
    assert last_error_line("") == "render failed"
