"""Reports render outcomes to the invoice service (its RenderCallbackService)."""

from __future__ import annotations

import contextvars
from concurrent.futures import Future, ThreadPoolExecutor

from suoops.invoice.v1 import render_callback_pb2 as pb
from suoops.invoice.v1 import render_callback_pb2_grpc

from services.common.internal_channel import InternalChannel
from services.renderer.storage import StoredPdf

# StartRender calls in flight at once while their renders run (one per worker thread is plenty).
START_THREADS = 8


class RenderCallbacks:
    """Blocking calls, each with the internal credential and a deadline (from worker threads)."""

    def __init__(self, address: str, internal_token: str) -> None:
        self._internal = InternalChannel(address, internal_token)
        self._stub = render_callback_pb2_grpc.RenderCallbackServiceStub(self._internal.channel)
        self._starts = ThreadPoolExecutor(START_THREADS, thread_name_prefix="start-render")

    def started(self, invoice_id: str, generation: int) -> bool:
        """Mark the render started; False when the PDF is no longer wanted (done or stale)."""
        reply = self._internal.call(
            self._stub.StartRender,
            pb.StartRenderRequest(invoice_id=invoice_id, generation=generation),
        )
        return bool(reply.render)

    def start_meanwhile(self, invoice_id: str, generation: int) -> Future[bool]:
        """`started` on a helper thread (in the caller's trace), so the render need not wait."""
        context = contextvars.copy_context()
        return self._starts.submit(context.run, self.started, invoice_id, generation)

    def completed(
        self, invoice_id: str, generation: int, stored: StoredPdf, render_seconds: float
    ) -> bool:
        reply = self._internal.call(
            self._stub.CompleteRender,
            pb.CompleteRenderRequest(
                invoice_id=invoice_id,
                generation=generation,
                storage_key=stored.key,
                checksum_sha256=stored.checksum_sha256,
                size_bytes=stored.size_bytes,
                render_seconds=render_seconds,
            ),
        )
        return bool(reply.applied)

    def failed(
        self, invoice_id: str, generation: int, error: str, attempts: int, final: bool
    ) -> bool:
        reply = self._internal.call(
            self._stub.FailRender,
            pb.FailRenderRequest(
                invoice_id=invoice_id,
                generation=generation,
                error=error,
                attempts=attempts,
                final=final,
            ),
        )
        return bool(reply.applied)

    def close(self) -> None:
        self._starts.shutdown(wait=True)
        self._internal.close()
