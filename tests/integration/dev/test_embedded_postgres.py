"""The embedded PostgreSQL (pgserver): it serves, it keeps its data, it stops for good."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.dev.embedded_postgres import EmbeddedPostgres
from tests.integration.dev.helpers import wait_all_gone

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data directory for the module: initdb runs once."""
    path = Path(tempfile.mkdtemp(prefix="suoops-dev-pg-"))
    yield path
    EmbeddedPostgres(path).stop()  # whatever a failed test left running
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def postgres(data_dir: Path) -> Iterator[EmbeddedPostgres]:
    """The embedded server, started; stopped after the test."""
    server = EmbeddedPostgres(data_dir)
    server.start()
    yield server
    server.stop()


def test_it_answers_a_query_with_psycopg(postgres: EmbeddedPostgres) -> None:
    with postgres.connect() as conn:
        row = conn.execute("SELECT current_database(), 40 + 2").fetchone()
    assert row == ("suoops", 42)


def test_its_url_works_with_sqlalchemy_and_psycopg_3(postgres: EmbeddedPostgres) -> None:
    assert postgres.url.startswith("postgresql+psycopg://")
    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar() == "postgres"
    finally:
        engine.dispose()


def test_data_is_still_there_after_a_restart(data_dir: Path) -> None:
    first = EmbeddedPostgres(data_dir)
    first.start()
    try:
        with first.connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS kept (note text)")
            conn.execute("INSERT INTO kept VALUES ('written before the restart')")
        old_pid = first.pid()
    finally:
        first.stop()
    assert old_pid is not None and wait_all_gone([old_pid]) == []

    second = EmbeddedPostgres(data_dir)
    second.start()
    try:
        with second.connect() as conn:
            notes = [row[0] for row in conn.execute("SELECT note FROM kept")]
        assert second.pid() != old_pid
    finally:
        second.stop()
    assert "written before the restart" in notes


def test_a_server_left_running_is_adopted_not_duplicated(postgres: EmbeddedPostgres) -> None:
    adopted = EmbeddedPostgres(postgres.pgdata.parent)
    adopted.start()
    assert adopted.pid() == postgres.pid()


def test_stop_leaves_no_server_running(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    server.start()
    pid = server.pid()
    server.stop()
    server.stop()  # idempotent
    assert pid is not None and wait_all_gone([pid]) == []
    assert server.pid() is None
