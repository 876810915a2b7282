"""Builds the renderer's pipeline (render processes, S3 store) from settings."""

from __future__ import annotations

from services.common.s3 import create_s3_client, ensure_bucket
from services.common.settings import Settings
from services.renderer.pipeline import RenderPipeline
from services.renderer.render_pool import RenderPool
from services.renderer.storage import PdfStore


def build_pipeline(settings: Settings, *, queued: bool) -> tuple[RenderPipeline, RenderPool]:
    """Start the render processes and make sure the bucket exists.

    `queued`: the renders of queued jobs, which nobody waits on, run at RENDER_NICE below the
    API's processes and the synchronous renderer (a caller is waiting on that one).
    """
    s3 = create_s3_client(settings)
    ensure_bucket(s3, settings.s3_bucket, settings.aws_region)
    pool = RenderPool(
        settings.render_processes,
        settings.renderer_factory,
        soft_limit=settings.render_soft_limit_seconds,
        hard_limit=settings.render_hard_limit_seconds,
        max_renders_per_child=settings.worker_max_tasks_per_child,
        nice=settings.render_nice if queued else 0,
    )
    return RenderPipeline(pool, PdfStore(s3, settings.s3_bucket)), pool
