"""Two distributions from one repository: the runtime (domino-mlops), which every workflow run
installs, and the Domino emulator (domino-emulator, in emulator/) beside it, as moto sits beside
boto. The runtime must neither ship nor import the emulator, its contract or its MLflow helper."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from domino_mlops import __version__

REPO = Path(__file__).resolve().parents[1]
MOVED = ("emulator", "contract", "local")  # the folders that left src/domino_mlops


def test_importing_every_runtime_module_loads_nothing_of_the_emulator() -> None:
    # A fresh interpreter: this test session has imported domino_emulator already (fixtures).
    code = ("import importlib, pkgutil, sys, domino_mlops\n"
            "names = [m.name for m in pkgutil.walk_packages(domino_mlops.__path__, 'domino_mlops.')]\n"
            "for name in names:\n    importlib.import_module(name)\n"
            "print(len(names), sorted(m for m in sys.modules if m.split('.')[0] == 'domino_emulator'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    count, loaded = out.split(" ", 1)
    assert int(count) > 50 and loaded.strip() == "[]"
    assert [name for name in MOVED if (REPO / "src" / "domino_mlops" / name).exists()] == []


def test_the_runtime_imports_and_checks_its_files_without_jsonschema() -> None:
    # jsonschema is the dev extra's (the reference desired/json_schema is tested against) and the
    # emulator's: the runtime every job installs must neither import it nor need it.
    code = ("import importlib, pkgutil, sys\nsys.modules['jsonschema'] = None  # importing it now fails\n"
            "import domino_mlops\nfrom domino_mlops.cli import main\n"
            "from domino_mlops.desired.json_schema import Validator\n"
            "from domino_mlops.desired.schema_check import load_schema\n"
            "for m in pkgutil.walk_packages(domino_mlops.__path__, 'domino_mlops.'):\n"
            "    importlib.import_module(m.name)\n"
            "for name in ('manifest', 'environments', 'export_targets'):\n"
            "    Validator(load_schema(name + '.schema.json'), name)\n"
            "sys.exit(main(['validate', '--manifest', 'scripts/model_version.json',\n"
            "               '--environments', 'scripts/environments.yaml']))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("ok: scripts/model_version.json"), done.stderr


def test_the_versions_agree_and_the_emulator_pins_the_runtime() -> None:
    runtime = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    emulator = tomllib.loads((REPO / "emulator" / "pyproject.toml").read_text())["project"]
    assert runtime["version"] == emulator["version"] == __version__
    # jsonschema checks requests against the contract; the runtime does without it (desired/json_schema).
    assert emulator["dependencies"] == [f"domino-mlops=={__version__}", "jsonschema>=4.18"]
    assert not [d for d in runtime["dependencies"] if d.startswith("jsonschema")]
    assert "emulator" not in runtime.get("optional-dependencies", {})  # it is domino-emulator[predict] now
    assert "mlflow-skinny>=2.16,<4" in emulator["optional-dependencies"]["predict"]
    assert emulator["scripts"] == {"domino-emulator": "domino_emulator.cli:entry"}


def test_make_install_installs_both_and_reinstalls_when_either_pyproject_changes() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "$(STAMP): pyproject.toml emulator/pyproject.toml\n" in makefile
    assert "-e '.[dev]' -e './emulator[predict]'" in makefile


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def _wheel(project: Path, files: tuple[str, ...], tmp_path: Path) -> list[str]:
    """Build the project's wheel as a user would (an isolated PEP 517 build), from a copy of the
    files it is made of, so no build/ or egg-info lands in the working tree."""
    if not _pypi_reachable():  # the isolated build fetches setuptools>=77 (the venv's is older)
        pytest.skip("pypi.org is not reachable: the isolated build needs setuptools from it")
    source = tmp_path / "source"
    source.mkdir()
    for name in files:
        if (project / name).is_dir():
            shutil.copytree(project / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(project / name, source / name)
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), str(source)], check=True, capture_output=True, text=True)
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.mark.slow
def test_the_runtime_wheel_carries_no_emulator_contract_or_local_helper(tmp_path) -> None:
    names = _wheel(REPO, ("pyproject.toml", "README.md", "src"), tmp_path)
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"domino_mlops"}
    assert "domino_mlops/cli.py" in names and "domino_mlops/desired/schemas/manifest.schema.json" in names
    assert [n for n in names if n.split("/")[1] in MOVED or "domino_api.json" in n or "emulator" in n] == []


@pytest.mark.slow
def test_the_emulator_wheel_carries_its_routes_contract_and_helper(tmp_path) -> None:
    names = _wheel(REPO / "emulator", ("pyproject.toml", "README.md", "src"), tmp_path)
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"domino_emulator"}
    for expected in ("domino_emulator/contract/domino_api.json", "domino_emulator/routes/models.py",
                     "domino_emulator/local/mlflow_server.py", "domino_emulator/__main__.py"):
        assert expected in names
