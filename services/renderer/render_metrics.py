"""The PDF counters and render histogram, recorded where the pipeline renders and stores.

Both the worker and the renderer service record them in their own process: renders
run in child processes of the render pool, but the parent times `pool.render` and
counts the outcome, so each process's default registry holds its totals.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PDF_SUCCESS = Counter("pdf_generation_success", "Render attempts that stored a PDF")
PDF_FAILURE = Counter(
    "pdf_generation_failure", "Render attempts that failed (rendering or storing)"
)
PDF_RENDER_SECONDS = Histogram(
    "pdf_render_seconds",
    "Time to render one PDF in the render pool (storing excluded)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
