"""Fixtures for the deployment checks: kubectl, and every overlay rendered once per session."""

from __future__ import annotations

import shutil

import pytest

from tests.deploy.manifests import K8S, OVERLAYS, REPO, Manifest, find_kubectl, kustomize


@pytest.fixture(scope="session")
def kubectl() -> str:
    """The kubectl binary; a missing one fails loudly instead of skipping the checks."""
    found = find_kubectl()
    if found is None:
        pytest.fail(
            "kubectl not found: the manifest checks need `kubectl kustomize`. "
            "`make deps` installs it; or set KUBECTL=/path/to/kubectl.",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def rendered(kubectl: str) -> dict[str, list[Manifest]]:
    """Every overlay, rendered: overlay name -> objects."""
    assert OVERLAYS, f"no overlay found under {K8S / 'overlays'}"
    return {name: kustomize(kubectl, K8S / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(scope="session")
def rendered_without_keda(
    kubectl: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Manifest]]:
    """Every overlay with the queue-depth HPA component enabled, as docs/deploy.md says to."""
    copy = tmp_path_factory.mktemp("deploy") / "deploy"
    shutil.copytree(REPO / "deploy", copy)
    out: dict[str, list[Manifest]] = {}
    for name in OVERLAYS:
        overlay = copy / "k8s" / "overlays" / name
        with (overlay / "kustomization.yaml").open("a", encoding="utf-8") as f:
            f.write("\ncomponents:\n  - ../../components/queue-depth-hpa\n")
        out[name] = kustomize(kubectl, overlay)
    return out
