"""Engines and session factories for the invoice service's PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def sqlalchemy_url(database_url: str) -> str:
    """The URL with SQLAlchemy's psycopg 3 driver, whatever form the operator gave."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def libpq_url(database_url: str) -> str:
    """The URL in the form psycopg itself takes (no SQLAlchemy driver suffix)."""
    return "postgresql://" + sqlalchemy_url(database_url).removeprefix("postgresql+psycopg://")


def create_async_db(database_url: str, pool_size: int) -> AsyncEngine:
    """The service's pooled async engine."""
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        # No overflow: overflow connections are closed on return, and opening one costs more
        # than waiting a moment for a pooled one.
        max_overflow=0,
        pool_timeout=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def create_sync_db(database_url: str) -> Engine:
    """A small sync engine for migrations and the command line."""
    return create_engine(sqlalchemy_url(database_url), pool_size=2, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
