"""suoops.invoice.v1.RenderCallbackService: renderers report here, with the internal credential."""

from __future__ import annotations

import hmac

from suoops.invoice.v1 import render_callback_pb2 as pb
from suoops.invoice.v1 import render_callback_pb2_grpc

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.errors import Unauthenticated
from services.invoice.domain.model import RenderedPdf
from services.invoice.entrypoints.invoice_servicer import Context, bearer_token
from services.invoice.service_layer import renders


def require_internal(context: Context, internal_token: str | None) -> None:
    """Only holders of INTERNAL_TOKEN may call; compared in constant time."""
    token = bearer_token(context)
    if not internal_token or not token or not hmac.compare_digest(token, internal_token):
        raise Unauthenticated("this call needs the internal credential")


class RenderCallbackServicer(render_callback_pb2_grpc.RenderCallbackServiceServicer):
    """Render outcomes: applied once per generation, duplicates and stale reports ignored."""

    def __init__(self, app: InvoiceApp) -> None:
        self._app = app

    async def StartRender(
        self, request: pb.StartRenderRequest, context: Context
    ) -> pb.StartRenderResponse:
        require_internal(context, self._app.settings.internal_token)
        applied, wanted = await renders.start_render(
            self._app.pdf_states, request.invoice_id, request.generation
        )
        return pb.StartRenderResponse(applied=applied, render=wanted)

    async def CompleteRender(
        self, request: pb.CompleteRenderRequest, context: Context
    ) -> pb.CompleteRenderResponse:
        require_internal(context, self._app.settings.internal_token)
        applied, _ = await renders.complete_render(
            self._app.pdf_states,
            request.invoice_id,
            RenderedPdf(request.generation, request.storage_key, request.checksum_sha256),
        )
        if applied:
            self._app.jobs_committed()  # its deliveries and webhook events go out now
        return pb.CompleteRenderResponse(applied=applied)

    async def FailRender(
        self, request: pb.FailRenderRequest, context: Context
    ) -> pb.FailRenderResponse:
        require_internal(context, self._app.settings.internal_token)
        applied, _ = await renders.fail_render(
            self._app.pdf_states,
            request.invoice_id,
            generation=request.generation,
            error=request.error,
            attempts=request.attempts,
            final=request.final,
        )
        if applied and request.final:
            self._app.jobs_committed()
        return pb.FailRenderResponse(applied=applied)
