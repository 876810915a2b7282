"""Where the deployment files are, and how the checks find kubectl and render an overlay."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))

Manifest = dict[str, Any]


def find_kubectl() -> str | None:
    """$KUBECTL, else the pinned copy `make deps` installs under .tools/bin, else PATH's."""
    if os.environ.get("KUBECTL"):
        return os.environ["KUBECTL"]
    pinned = REPO / ".tools" / "bin" / "kubectl"
    return str(pinned) if pinned.exists() else shutil.which("kubectl")


def kustomize(kubectl: str, directory: Path) -> list[Manifest]:
    """The objects `kubectl kustomize DIRECTORY` renders; fails the test on any error."""
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed:\n{result.stderr}", pytrace=False)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
