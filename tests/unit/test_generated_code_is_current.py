"""The committed gRPC code in gen/ is exactly what `make protos` makes from protos/."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _files(root: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(root)): p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_BIN": sys.executable}
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "gen_protos.sh"), str(tmp_path)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = _files(tmp_path / "suoops")
    committed = _files(ROOT / "gen" / "suoops")
    assert sorted(fresh) == sorted(committed), "run `make protos`: generated files differ"
    stale = [name for name in fresh if not filecmp.cmp(fresh[name], committed[name], shallow=False)]
    assert stale == [], f"run `make protos`: stale generated files {stale}"
