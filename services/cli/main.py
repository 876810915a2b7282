"""The `suoops` command: parses arguments and hands each subcommand to its module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> "module:function"; each takes the parsed arguments and returns an exit code.
COMMANDS = {
    "dev": "services.cli.dev:run",
    "migrate": "services.cli.admin:migrate",
    "create-business": "services.cli.admin:create_business",
    "create-operator": "services.cli.admin:create_operator",
    "serve": "services.cli.serve:run",
    "worker": "services.cli.serve:run_worker",
    "inspect": "services.cli.inspect:inspect",
    "retry": "services.cli.inspect:retry",
}

# role -> "module:function"; each takes the process's Settings and serves until stopped.
SERVE_ROLES = {
    "invoice": "services.invoice.main:main",
    "gateway": "gateway.main:main",
    "renderer": "services.renderer.main:main",
    "scheduler": "services.scheduler.main:main",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="suoops", description="SuoOps invoicing backend")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run the whole stack in the foreground (what `make run` calls)")
    sub.add_parser("migrate", help="apply database migrations")
    business = sub.add_parser("create-business", help="create a business; prints its bearer token")
    business.add_argument("name")
    operator = sub.add_parser("create-operator", help="create an operator; prints its token")
    operator.add_argument("name")
    serve = sub.add_parser("serve", help="run one server process")
    serve.add_argument("role", choices=sorted(SERVE_ROLES))
    worker = sub.add_parser("worker", help="run Dramatiq worker threads and render processes")
    worker.add_argument("--queues", nargs="+", help="queues to consume (default: pdf_generation)")
    worker.add_argument("--threads", type=int, help="worker threads (default: WORKER_THREADS)")
    inspect = sub.add_parser("inspect", help="show running jobs, queue statistics or failed jobs")
    inspect.add_argument("what", choices=("active", "stats", "failed"))
    inspect.add_argument("--json", action="store_true", help="print JSON")
    retry = sub.add_parser("retry", help="queue failed renders again (new PDF generation)")
    retry.add_argument("invoice_ids", nargs="*", metavar="INVOICE_ID")
    retry.add_argument("--failed", action="store_true", help="every render in the dead letters")
    retry.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `suoops` console script."""
    args = build_parser().parse_args(argv)
    module_name, _, func_name = COMMANDS[args.command].partition(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
