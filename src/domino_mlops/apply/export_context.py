"""Lay out one version's build context: ``<model>/v<N>/`` with ``mymodel/`` (the MLflow model as
saved), ``client/`` (the serving entry point), ``Dockerfile`` and ``create_docker_image.sh``.

Templates ship in ``domino_mlops/export_templates/``. A repository replaces any of them (or adds
files) with a folder of the same layout: the target's ``templates``, else
``scripts/export_templates/`` when it exists. ``{{NAME}}`` placeholders are filled once the version
is known; an unknown one is an error naming the file and line, not a broken image.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from domino_mlops import __version__
from domino_mlops.desired.targets import Target, model_slug
from domino_mlops.errors import ConfigError, ValidationFailed, ValidationIssue
from domino_mlops.plan.export_plan import ExportItem

REPOSITORY_TEMPLATES = "scripts/export_templates"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SKIP = ("__pycache__", ".pyc", "__init__.py")
_SAFE = re.compile(r"[^A-Za-z0-9._@+ -]")  # what a model name may bring into a Dockerfile or a script
EXECUTABLE = ("create_docker_image.sh",)


@dataclass(frozen=True, slots=True)
class BuildContext:
    path: Path
    image: str
    files: tuple[str, ...]  # relative paths of the rendered files, sorted


def context_dir(root: Path, item: ExportItem) -> Path:
    return root / model_slug(item.model) / f"v{item.version}"


def template_files(override: str | None) -> dict[str, tuple[str, bytes]]:
    """Relative path -> (where it comes from, content) of every template: the shipped ones, then
    the repository's on top."""
    shipped = resources.files("domino_mlops") / "export_templates"
    files = {name: (f"domino_mlops/export_templates/{name}", data) for name, data in _walk(shipped, "")}
    folder = override or (REPOSITORY_TEMPLATES if Path(REPOSITORY_TEMPLATES).is_dir() else None)
    if folder is not None:
        files.update({name: (str(Path(folder) / name), data) for name, data in _walk(Path(folder), "")})
    return files


def _walk(folder, prefix: str):
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if any(entry.name.endswith(s) or entry.name == s for s in _SKIP):
            continue
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _walk(entry, name + "/")
        else:
            yield name, entry.read_bytes()


def values_for(item: ExportItem, target: Target, python_version: str) -> dict[str, str]:
    """What the placeholders stand for; every value is safe inside quotes in a Dockerfile or a script."""
    return {"MODEL_NAME": _SAFE.sub("_", item.model), "MODEL_SLUG": model_slug(item.model),
            "MODEL_VERSION": item.version, "IMAGE": item.image, "REGISTRY": target.registry,
            "REGISTRY_HOST": target.registry_host, "REPOSITORY": target.repository_for(item.model),
            "IMAGE_TAG": target.image_tag_for(item.version), "TARGET": target.name,
            "RUN_ID": _SAFE.sub("_", item.run_id or ""), "PYTHON_VERSION": python_version,
            "DMLOPS_VERSION": __version__}  # the agent image installs this same release


def render(text: str, values: Mapping[str, str], *, file: str) -> str:
    """Fill ``{{NAME}}`` placeholders; ValidationFailed names each unknown one with its line."""
    issues = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in PLACEHOLDER.finditer(line):
            if match[1] not in values:
                issues.append(ValidationIssue(file, number, match[0], f"unknown placeholder; known: "
                                              f"{', '.join(sorted(values))}"))
    if issues:
        error = ValidationFailed(issues)
        error.hint = "Fix the template (or remove it from the templates folder to use the shipped one)."
        raise error
    return PLACEHOLDER.sub(lambda m: values[m[1]], text)


def python_version(model_dir: Path, default: str = "3.11") -> str:
    """major.minor of the Python the model was saved with (MLflow's python_env.yaml), for the base image."""
    env = model_dir / "python_env.yaml"
    if env.is_file():
        match = re.search(r"^python:\s*['\"]?(\d+)\.(\d+)", env.read_text(encoding="utf-8", errors="replace"), re.M)
        if match:
            return f"{match[1]}.{match[2]}"
    return default


def lay_out(root: Path, item: ExportItem, target: Target,
            download: Callable[[str, str, str], str]) -> BuildContext:
    """A fresh ``<root>/<model>/v<N>/``: written beside it first, then moved into place, so a
    crash never leaves a half context under the final name. ``download(model, version, dst)``
    fetches the MLflow model into ``dst``."""
    final = context_dir(root, item)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "mymodel").mkdir(parents=True)
    download(item.model, item.version, str(partial / "mymodel"))
    if not (partial / "mymodel" / "MLmodel").is_file():
        raise ConfigError(f"{item.model} version {item.version} has no MLmodel file: it is not an MLflow model",
                          hint="Register the version from an MLflow model (mlflow.<flavor>.log_model), "
                               "or remove its export tag.")
    values = values_for(item, target, python_version(partial / "mymodel"))
    written = []
    templates = template_files(target.templates)
    for name, (origin, data) in templates.items():
        path = partial / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            path.write_bytes(data)  # a binary file in an override folder: copied as is
        else:
            path.write_text(render(text, values, file=origin), encoding="utf-8")
        if name in EXECUTABLE or name.endswith(".sh"):
            path.chmod(0o755)
        written.append(name)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return BuildContext(final, item.image, tuple(sorted(written)))
