"""Renders in child processes, so a render stuck in C code can be killed and its process replaced.

Each child loads the renderer (fonts, template, CSS) once and renders one PDF at a time; it is
recycled after a number of renders, which also bounds any memory the renderer keeps.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from suoops.invoice.v1 import invoice_pb2

log = logging.getLogger(__name__)


class RenderError(Exception):
    """A render did not produce a PDF; the job may be retried."""


class PermanentRenderError(RenderError):
    """A render that will fail the same way every time (a template error): not retried."""


class RenderTimeout(RenderError):
    """A render overran the hard limit; its process was killed."""


class Renderer(Protocol):
    """What a render child runs: invoice in, PDF bytes out."""

    def render(self, invoice: invoice_pb2.Invoice) -> bytes: ...


def load_factory(path: str) -> Callable[[], Renderer]:
    """The renderer factory named "module:attribute"."""
    module_name, _, attribute = path.partition(":")
    factory: Callable[[], Renderer] = getattr(importlib.import_module(module_name), attribute)
    return factory


WARM_MODULE = "services.renderer.warm_renderer"


def _child_main(conn: Connection, factory_path: str, nice: int) -> None:
    """A render process: take the fork server's warm renderer (or build one), then answer
    render requests until EOF."""
    if nice:
        os.nice(nice)  # below the API's processes: a backlog of renders never slows a create
    warm = sys.modules.get(WARM_MODULE)
    renderer = getattr(warm, "RENDERER", None)
    if renderer is None or getattr(warm, "FACTORY_PATH", None) != factory_path:
        renderer = load_factory(factory_path)()
    permanent = _permanent_errors(factory_path)
    while True:
        try:
            payload = conn.recv_bytes()
        except EOFError:
            return
        invoice = invoice_pb2.Invoice.FromString(payload)
        try:
            conn.send(("ok", renderer.render(invoice)))
        except permanent as exc:
            conn.send(("permanent", f"{type(exc).__name__}: {exc}"))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _permanent_errors(factory_path: str) -> tuple[type[BaseException], ...]:
    """The renderer module's TemplateError, if it has one: errors no retry can fix."""
    module = importlib.import_module(factory_path.partition(":")[0])
    error = getattr(module, "TemplateError", None)
    return (error,) if isinstance(error, type) else ()


class RenderChild:
    """One render process, driven over a pipe."""

    def __init__(self, context: Any, factory_path: str, nice: int = 0) -> None:
        parent, child = context.Pipe()
        self.process = context.Process(
            target=_child_main,
            args=(child, factory_path, nice),
            daemon=True,
            name="suoops-render",
        )
        self.process.start()
        child.close()
        self.conn: Connection = parent
        self.renders = 0

    def render(self, payload: bytes, soft_limit: float, hard_limit: float) -> bytes:
        try:
            self.conn.send_bytes(payload)
        except OSError as exc:  # the child died while idle: its end of the pipe is closed
            self.kill()
            raise RenderError("the render process died") from exc
        if not self.conn.poll(soft_limit):
            log.warning("render passed its soft time limit", extra={"pid": self.process.pid})
            if not self.conn.poll(max(0.0, hard_limit - soft_limit)):
                self.kill()
                raise RenderTimeout(f"render killed after its hard limit of {hard_limit:g}s")
        try:
            status, value = self.conn.recv()
        except (EOFError, OSError) as exc:  # the pipe closed or was reset: the child is gone
            self.kill()
            raise RenderError("the render process died") from exc
        self.renders += 1
        if status == "ok":
            return bytes(value)
        if status == "permanent":
            raise PermanentRenderError(value)
        raise RenderError(value)

    @property
    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def close(self) -> None:
        self.conn.close()  # EOF: the child returns
        self.process.join(5)
        if self.process.is_alive():
            self.kill()


class RenderPool:
    """A fixed number of render processes shared by the calling threads."""

    def __init__(
        self,
        size: int,
        factory_path: str,
        *,
        soft_limit: float,
        hard_limit: float,
        max_renders_per_child: int,
        start_method: str = "forkserver",
        nice: int = 0,
    ) -> None:
        # Render processes fork from a single-threaded server that preloaded a warm renderer:
        # safe (this process has gRPC and worker threads; a plain fork of it is not) and fast.
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self._context.set_forkserver_preload([WARM_MODULE])
        self._factory_path = factory_path
        self._soft = soft_limit
        self._hard = hard_limit
        self._max_renders = max_renders_per_child
        self._nice = nice
        self._idle: queue.Queue[RenderChild] = queue.Queue()
        self._size = size
        self._lock = threading.Lock()
        self._closed = False
        self.children_started = 0
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> RenderChild:
        with self._lock:
            self.children_started += 1
        return RenderChild(self._context, self._factory_path, self._nice)

    def render(self, invoice: invoice_pb2.Invoice) -> bytes:
        """Render in an idle child (waiting for one); raises RenderError subclasses."""
        child = self._idle.get()
        replace = False
        try:
            return child.render(invoice.SerializeToString(), self._soft, self._hard)
        except RenderError:
            replace = not child.alive
            raise
        finally:
            if replace or child.renders >= self._max_renders:
                if child.alive:
                    child.close()
                self._idle.put(self._spawn())
            else:
                self._idle.put(child)

    def pids(self) -> list[int]:
        """Process ids of the idle children (for tests and `inspect`)."""
        return [c.process.pid for c in list(self._idle.queue) if c.process.pid is not None]

    def close(self) -> None:
        """Stop every child, waiting for the ones rendering now."""
        self._closed = True
        deadline = time.monotonic() + self._hard
        for _ in range(self._size):
            try:
                self._idle.get(timeout=max(0.1, deadline - time.monotonic())).close()
            except queue.Empty:
                break
