"""Applies the Alembic migrations to a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from services.invoice.adapters.database import create_sync_db

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration, built in code (no alembic.ini to keep in step)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the schema to the newest revision; safe to run from several processes at once."""
    engine = create_sync_db(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
