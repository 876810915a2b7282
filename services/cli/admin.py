"""`suoops migrate`, `suoops create-business` and `suoops create-operator`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

from services.common.settings import Settings, SettingsError
from services.invoice.adapters.migrate import upgrade_to_head
from services.invoice.bootstrap import build_app
from services.invoice.domain.errors import InvalidInput
from services.invoice.service_layer import businesses


def migrate(args: argparse.Namespace) -> int:
    """Apply every pending migration."""
    settings = Settings.from_env().require("database_url")
    assert settings.database_url is not None
    upgrade_to_head(settings.database_url)
    print("migrations applied", file=sys.stderr)
    return 0


def create_business(args: argparse.Namespace) -> int:
    """Create a business; its bearer token alone goes to stdout."""
    return _print_token(_new_business_token(args.name))


def create_operator(args: argparse.Namespace) -> int:
    """Create an operator; its token alone goes to stdout."""
    return _print_token(_new_operator_token(args.name))


def _print_token(make_token: Coroutine[Any, Any, str]) -> int:
    try:
        token = asyncio.run(make_token)
    except (InvalidInput, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


async def _new_business_token(name: str) -> str:
    app = build_app(Settings.from_env())
    try:
        _, token = await businesses.create_business(app.unit_of_work(), name)
        return token
    finally:
        await app.close()


async def _new_operator_token(name: str) -> str:
    app = build_app(Settings.from_env())
    try:
        return await businesses.create_operator(app.unit_of_work(), name)
    finally:
        await app.close()
