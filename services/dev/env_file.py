"""The `.suoops/env` file: the URLs `suoops dev` uses, for other `suoops` commands to find."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from services.common.settings import ENV_FILE_NAME, read_env_file

HEADER = (
    "# Written by `suoops dev`: the services the running stack uses.\n"
    "# Other `suoops` commands run from this folder read it when these variables are unset.\n"
)


def env_file_path(data_dir: Path) -> Path:
    """Where `suoops dev` keeps its env file."""
    return data_dir / ENV_FILE_NAME


def read_previous(data_dir: Path) -> dict[str, str]:
    """What the last run wrote (empty on the first run)."""
    return read_env_file(env_file_path(data_dir))


def internal_token(environ: Mapping[str, str], previous: Mapping[str, str]) -> str:
    """INTERNAL_TOKEN from the environment, else the one kept from the last run, else a new one."""
    return environ.get("INTERNAL_TOKEN") or previous.get("INTERNAL_TOKEN") or new_secret()


def new_secret() -> str:
    """A random credential for something only this stack talks to."""
    return secrets.token_urlsafe(32)


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Replace the file atomically with KEY=VALUE lines, readable by its owner only (0600)."""
    for key, value in values.items():
        if "\n" in value or "\r" in value or "=" in key:
            raise ValueError(f"{key} cannot be written to an env file")
    path.parent.mkdir(parents=True, exist_ok=True)
    body = HEADER + "".join(f"{key}={value}\n" for key, value in values.items())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(
            os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8"
        ) as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask or a stale file said
            handle.write(body)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
