"""The Dockerfile (which cannot be built here) refers only to things the project has."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from services.cli.main import build_parser
from tests.deploy.manifests import K8S, REPO

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
SYSTEM_DEPS = REPO / "scripts" / "system_deps.sh"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
POD_USER = "10001"
# System packages the processes load at run time (the rest of system_deps.sh is tooling).
RUNTIME_PACKAGE = re.compile(r"^(lib|fonts-|fontconfig)")

Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    out: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    return out


def stages(parsed: list[Instruction]) -> dict[str, list[Instruction]]:
    """Each stage's instructions by stage name (FROM ... AS name)."""
    out: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    for keyword, args in parsed:
        if keyword == "FROM":
            current = []
            out[args.split()[-1] if " AS " in args.upper() else str(len(out))] = current
        current.append((keyword, args))
    return out


def ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (excludes?, pattern) in file order; the last matching rule wins."""
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        rules.append((not negate, re.compile(regex.replace(r"\?", "[^/]") + "$")))
    return rules


def in_build_context(relative: str) -> bool:
    """Whether the build sees this path: a rule matching the path or a parent applies."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for excludes, pattern in ignore_rules():
        if any(pattern.match(prefix) for prefix in prefixes):
            included = not excludes
    return included


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def context_files() -> list[Path]:
    """Every file the Docker build context holds (excluded top-level folders are not walked)."""
    tops = [p for p in sorted(REPO.iterdir()) if in_build_context(p.name)]
    files = [p for top in tops for p in ([top] if top.is_file() else sorted(top.rglob("*")))]
    return [p for p in files if p.is_file() and in_build_context(relative(p))]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(a, str) for a in value)
    return value


@pytest.fixture(scope="module")
def parsed() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.mark.unit
def test_every_copied_path_exists_and_reaches_the_build_context(
    parsed: list[Instruction],
) -> None:
    copies = [args.split() for keyword, args in parsed if keyword in ("COPY", "ADD")]
    local = [words for words in copies if not any(w.startswith("--from") for w in words)]
    assert local, "the build stage copies the project in"
    for words in local:
        sources = [w for w in words[:-1] if not w.startswith("--")]
        for source in sources:
            path = REPO / source
            assert path.exists(), f"COPY {source}: no such file in the project"
            assert in_build_context(source), f"COPY {source}: excluded by .dockerignore"
            if path.is_dir():
                kept = [p for p in path.rglob("*.py") if in_build_context(relative(p))]
                assert kept, f"COPY {source}: .dockerignore leaves nothing of it"


@pytest.mark.unit
def test_build_context_leaves_out_local_state() -> None:
    for path in (".git/HEAD", ".venv/bin/python", ".suoops/env", ".tools/bin/kubectl"):
        assert not in_build_context(path), path
    for path in ("tests/conftest.py", "deploy/k8s/base/kustomization.yaml", "Dockerfile"):
        assert not in_build_context(path), path
    assert not in_build_context("services/cli/__pycache__/main.cpython-311.pyc")
    assert in_build_context("services/cli/main.py")
    assert in_build_context("pyproject.toml")


@pytest.mark.unit
def test_entrypoint_is_the_projects_console_script(parsed: list[Instruction]) -> None:
    (entrypoint,) = [args for keyword, args in parsed if keyword == "ENTRYPOINT"]
    assert exec_form(entrypoint) == ["suoops"]
    target = PYPROJECT["project"]["scripts"]["suoops"]
    module, _, function = target.partition(":")
    assert callable(getattr(importlib.import_module(module), function))


@pytest.mark.unit
def test_default_command_is_a_suoops_command(parsed: list[Instruction]) -> None:
    (command,) = [args for keyword, args in parsed if keyword == "CMD"]
    build_parser().parse_args(exec_form(command))


@pytest.mark.unit
def test_image_is_the_python_the_project_requires(parsed: list[Instruction]) -> None:
    args = dict(a.split("=", 1) for keyword, a in parsed if keyword == "ARG" and "=" in a)
    base = args["PYTHON_IMAGE"]
    match = re.fullmatch(r"python:(\d+\.\d+)-slim-bookworm", base)
    assert match, f"a Debian bookworm slim Python image, not {base}"
    assert match.group(1) in SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert match.group(1) == f"{sys.version_info.major}.{sys.version_info.minor}", "as tested"
    froms = [a for keyword, a in parsed if keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage: the build tools stay out of the runtime image"
    assert all(a.startswith("${PYTHON_IMAGE}") for a in froms)


@pytest.mark.unit
def test_runtime_stage_gets_only_the_virtualenv(parsed: list[Instruction]) -> None:
    runtime = list(stages(parsed).values())[-1]
    copies = [a for keyword, a in runtime if keyword == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    env = " ".join(a for keyword, a in runtime if keyword == "ENV")
    assert "PATH=/opt/venv/bin:$PATH" in env


@pytest.mark.unit
def test_image_runs_as_the_user_the_pods_require(parsed: list[Instruction]) -> None:
    users = [a for keyword, a in parsed if keyword == "USER"]
    assert users and users[-1] == f"{POD_USER}:{POD_USER}", "the last USER is the non-root uid"
    manifests = sorted(K8S.glob("base/*/deployment.yaml")) + sorted(K8S.glob("base/*/job.yaml"))
    assert manifests
    for path in manifests:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]["template"]["spec"]
        context = spec["securityContext"]
        assert str(context["runAsUser"]) == POD_USER, path
        assert str(context["runAsGroup"]) == POD_USER, path


def apt_packages(command: str) -> set[str]:
    """The package names of every `apt-get install` in a shell command."""
    names: set[str] = set()
    for part in re.split(r"&&|;|\|\|", command):
        words = part.split()
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1 :]
            names.update(w for w in after if not w.startswith("-") and re.match(r"^[a-z0-9]", w))
    return names


def system_deps_packages() -> set[str]:
    """Every package scripts/system_deps.sh may install (its `need+=(...)` entries)."""
    text = SYSTEM_DEPS.read_text(encoding="utf-8")
    names: set[str] = set()
    for group in re.findall(r"need\+=\(([^)]*)\)", text):
        names.update(group.split())
    assert names, "scripts/system_deps.sh changed shape: update this parser"
    return names


@pytest.mark.unit
def test_image_installs_the_system_libraries_and_fonts_make_run_installs(
    parsed: list[Instruction],
) -> None:
    runtime = list(stages(parsed).values())[-1]
    installed = set().union(*(apt_packages(a) for keyword, a in runtime if keyword == "RUN"))
    needed = {name for name in system_deps_packages() if RUNTIME_PACKAGE.match(name)}
    assert needed, "WeasyPrint needs Pango at least"
    assert needed <= installed, f"missing from the image: {sorted(needed - installed)}"


@pytest.mark.integration
def test_package_built_from_the_context_ships_every_module_and_data_file(
    tmp_path: Path,
) -> None:
    # What `pip install .` in the build stage puts in the image: a file missing here (an
    # Alembic versions folder without __init__.py, a template outside package-data) would be
    # missing in every pod.
    context = tmp_path / "context"
    sources = [p for p in context_files() if "__pycache__" not in p.parts]
    for path in sources:
        target = context / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    result = subprocess.run(
        [*pip_wheel, "-w", str(tmp_path / "dist"), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for path in sources:
        relative = path.relative_to(REPO)
        if relative.parts[0] in ("services", "gateway"):
            expected.add(relative.as_posix())
        elif relative.parts[0] == "gen":  # gen/ is a package root (tool.setuptools where)
            expected.add(relative.relative_to("gen").as_posix())
    assert expected, "the context holds the code"
    assert not expected - shipped, f"not in the image: {sorted(expected - shipped)}"
