"""The `.suoops/env` file: private to its owner and read back by every other `suoops` command."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.common.settings import Settings
from services.dev.env_file import env_file_path, internal_token, read_previous, write_env_file

pytestmark = pytest.mark.integration

VALUES = {
    "DATABASE_URL": "postgresql+psycopg://postgres@/suoops?host=/tmp/x/pgdata&port=5432",
    "REDIS_URL": "redis://:secret@127.0.0.1:6390/0",
    "S3_ENDPOINT_URL": "http://127.0.0.1:5099",
    "S3_BUCKET": "suoops-invoices",
    "INTERNAL_TOKEN": "internal-abc",
}


def test_env_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = env_file_path(tmp_path)
    write_env_file(path, VALUES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_env_file_stays_private_when_it_replaces_a_world_readable_one(tmp_path: Path) -> None:
    path = env_file_path(tmp_path)
    path.write_text("DATABASE_URL=old\n")
    path.chmod(0o644)
    write_env_file(path, VALUES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_previous(tmp_path)["DATABASE_URL"] == VALUES["DATABASE_URL"]


def test_settings_read_the_env_file_of_the_data_dir(tmp_path: Path) -> None:
    write_env_file(env_file_path(tmp_path), VALUES)

    settings = Settings.from_env({"SUOOPS_DATA_DIR": str(tmp_path)})

    assert settings.database_url == VALUES["DATABASE_URL"]
    assert settings.redis_url == VALUES["REDIS_URL"]
    assert settings.s3_endpoint_url == VALUES["S3_ENDPOINT_URL"]
    assert settings.s3_bucket == VALUES["S3_BUCKET"]
    assert settings.internal_token == VALUES["INTERNAL_TOKEN"]


def test_variables_set_in_the_environment_win_over_the_env_file(tmp_path: Path) -> None:
    write_env_file(env_file_path(tmp_path), VALUES)
    external = "postgresql://app@db.example:5432/suoops"

    settings = Settings.from_env({"SUOOPS_DATA_DIR": str(tmp_path), "DATABASE_URL": external})

    assert settings.database_url == external
    assert settings.redis_url == VALUES["REDIS_URL"]


def test_internal_token_is_made_once_and_kept(tmp_path: Path) -> None:
    first = internal_token({}, read_previous(tmp_path))
    write_env_file(env_file_path(tmp_path), {**VALUES, "INTERNAL_TOKEN": first})

    assert len(first) >= 32
    assert internal_token({}, read_previous(tmp_path)) == first
    assert internal_token({"INTERNAL_TOKEN": "from-env"}, read_previous(tmp_path)) == "from-env"


def test_a_value_with_a_newline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        write_env_file(env_file_path(tmp_path), {"REDIS_URL": "redis://x\nDATABASE_URL=evil"})
