"""`suoops serve ROLE`: read settings once and hand them to the role's entry point."""

from __future__ import annotations

import argparse
import importlib
import sys

from services.cli.main import SERVE_ROLES
from services.common.settings import Settings, SettingsError


def _settings() -> Settings | None:
    """The process's settings, or None after saying which one is wrong."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    """Serve one role until stopped."""
    settings = _settings()
    if settings is None:
        return 2
    module_name, _, func_name = SERVE_ROLES[args.role].partition(":")
    entry = getattr(importlib.import_module(module_name), func_name)
    entry(settings)
    return 0


def run_worker(args: argparse.Namespace) -> int:
    """Consume job queues until stopped."""
    settings = _settings()
    if settings is None:
        return 2
    from services.renderer.worker_main import main

    main(settings, queues=args.queues, threads=args.threads)
    return 0
