"""The render process pool: recycling after N renders, replacement after a death, real PDFs."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import psutil
import pytest

from services.renderer import samples
from services.renderer.render_pool import RenderError, RenderPool

pytestmark = pytest.mark.integration

FACTORY = "services.renderer.pdf:InvoicePdfRenderer"


@pytest.fixture
def pool() -> Iterator[RenderPool]:
    pool = RenderPool(1, FACTORY, soft_limit=30, hard_limit=60, max_renders_per_child=2)
    yield pool
    pool.close()


def test_render_processes_are_recycled_after_the_configured_number_of_renders(
    pool: RenderPool,
) -> None:
    invoice = samples.sample_invoice()
    pids = []
    for _ in range(5):
        assert pool.render(invoice).startswith(b"%PDF-")
        pids.append(pool.pids()[0])
    # Each process serves two renders and is replaced: the idle process after renders 1 to 5
    # is the 1st, 2nd, 2nd, 3rd, 3rd.
    assert len(set(pids)) == 3
    assert pool.children_started == 3


def test_a_render_process_that_dies_is_replaced(pool: RenderPool) -> None:
    invoice = samples.sample_invoice()
    pool.render(invoice)
    victim = pool.pids()[0]
    os.kill(victim, signal.SIGKILL)
    with pytest.raises(RenderError):
        pool.render(invoice)
    assert pool.pids() and pool.pids()[0] != victim
    assert pool.render(invoice).startswith(b"%PDF-")


def test_a_render_process_that_died_while_idle_is_replaced_not_reused(pool: RenderPool) -> None:
    invoice = samples.sample_invoice()
    victim = pool.pids()[0]
    os.kill(victim, signal.SIGKILL)
    wait_until_dead(victim)  # its end of the pipe is closed before the next render is sent

    with pytest.raises(RenderError, match="died"):
        pool.render(invoice)
    assert pool.pids() and pool.pids()[0] != victim
    assert pool.render(invoice).startswith(b"%PDF-")


def wait_until_dead(pid: int) -> None:
    """Until the process is gone or a zombie (the fork server, its parent, reaps it)."""
    for _ in range(500):
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not die")


def test_render_processes_run_below_the_service_priority_and_still_render() -> None:
    nice_pool = RenderPool(
        1, FACTORY, soft_limit=30, hard_limit=60, max_renders_per_child=2, nice=5
    )
    try:
        niceness = []
        for _ in range(2):  # the first child, then its replacement after recycling
            (pid,) = nice_pool.pids()
            assert nice_pool.render(samples.sample_invoice()).startswith(b"%PDF")
            niceness.append(psutil.Process(pid).nice())  # alive: it has rendered once
            nice_pool.render(samples.sample_invoice())  # its second: recycled after it
            assert nice_pool.pids() != [pid]
        assert niceness == [os.nice(0) + 5] * 2
    finally:
        nice_pool.close()
