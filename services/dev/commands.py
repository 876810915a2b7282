"""Running one-off `suoops` subcommands (migrate, create-business) from `suoops dev`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

from services.dev.processes import start_in_own_group, stop_processes
from services.dev.supervisor import Console

COMMAND_TIMEOUT_SECONDS = 300


class CommandFailed(RuntimeError):
    """A `suoops` subcommand exited non-zero."""


def suoops_argv(*args: str) -> list[str]:
    """The command line of `suoops ARGS...` with this interpreter (no PATH lookup)."""
    return [sys.executable, "-m", "services.cli.main", *args]


def run_streamed(console: Console, name: str, argv: list[str], env: Mapping[str, str]) -> None:
    """Run to completion, its output prefixed with `name`; CommandFailed on a non-zero exit."""
    process = start_in_own_group(argv, env=dict(env), stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            console.line(name, raw.decode("utf-8", "replace").rstrip("\r\n"))
        code = process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
    finally:
        stop_processes([process], timeout=10)  # only does anything if we were interrupted
        if process.stdout is not None:
            process.stdout.close()
    if code != 0:
        raise CommandFailed(f"`suoops {' '.join(argv[3:])}` exited with code {code}")


def run_captured(console: Console, name: str, argv: list[str], env: Mapping[str, str]) -> str:
    """Run to completion and return its stdout; its stderr is shown only when it fails."""
    process = start_in_own_group(argv, env=dict(env), stdout=subprocess.PIPE, stderr_pipe=True)
    try:
        out, err = process.communicate(timeout=COMMAND_TIMEOUT_SECONDS)
    finally:
        stop_processes([process], timeout=10)
    if process.returncode != 0:
        for line in err.decode("utf-8", "replace").splitlines():
            console.line(name, line)
        raise CommandFailed(f"`suoops {' '.join(argv[3:])}` exited with code {process.returncode}")
    return out.decode("utf-8", "replace")
