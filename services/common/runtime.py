"""Process-level tuning shared by the long-running servers."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move everything allocated at start-up (modules, app objects) out of the collector's
    reach, so a full collection under load scans only what requests allocated: shorter
    pauses in the latency tail."""
    gc.collect()
    gc.freeze()
