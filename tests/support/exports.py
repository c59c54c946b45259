"""Export tests: a targets file, a recording fake container tool, reading the export tags back."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

FAKE_DIGEST = "sha256:" + "ab12" * 16


def write_targets(root: Path, text: str, name: str = "export_targets.yaml") -> Path:
    path = root / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def fake_tool(bin_dir: Path, log: Path, *, name: str = "docker", fail_on: str | None = None) -> Path:
    """A `docker` (or podman/buildah) that records each call as one JSON line in ``log``: argv, what
    came on stdin, the credential variables it could see, and the build context's files; a push
    prints a digest as docker does. ``fail_on``: a subcommand that exits 1."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    tool = bin_dir / name
    tool.write_text(f"""#!{sys.executable}
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
secret_names = ("EXPORT_REGISTRY_CREDENTIALS", "MLFLOW_TRACKING_TOKEN", "DOMINO_USER_API_KEY", "GITHUB_TOKEN")
record = {{"argv": args, "stdin": stdin,
          "env": sorted(k for k in os.environ if k.startswith(("FOUNDRY_", "PROJECT_ID_")) or k in secret_names),
          "all_env": sorted(os.environ),
          "docker_config": os.environ.get("DOCKER_CONFIG", "")}}
if args and args[0] == "build":
    context = Path(args[-1])
    record["context_files"] = sorted(str(p.relative_to(context)) for p in context.rglob("*") if p.is_file())
with open({str(log)!r}, "a") as handle:
    handle.write(json.dumps(record) + "\\n")
if args and args[0] == {fail_on!r}:
    print("denied: requested access to the resource is denied" + (" for " + stdin if stdin else ""), file=sys.stderr)
    sys.exit(1)
if args and args[0] == "push" and "--digestfile" in args:
    Path(args[args.index("--digestfile") + 1]).write_text("{FAKE_DIGEST}")
elif args and args[0] == "push":
    print("The push refers to repository [" + args[-1].rsplit(":", 1)[0] + "]")
    print(args[-1].rsplit(":", 1)[1] + ": digest: {FAKE_DIGEST} size: 1573")
if args and args[0] == "login":
    print("Login Succeeded for " + stdin)  # a tool that echoes what it read: the caller must scrub it
""")
    tool.chmod(0o755)
    return tool


def calls(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def export_tag(client: Any, model: str, version: str, target: str) -> dict[str, Any] | None:
    value = client.get_model_version(model, version).tags.get(f"domino_mlops.export.{target}")
    return None if value is None else json.loads(value)


def outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT as a dict (heredoc form)."""
    found: dict[str, str] = {}
    if not path.exists():
        return found
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        name, delimiter = lines[i].split("<<", 1)
        end = lines.index(delimiter, i + 1)
        found[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    return found


def path_with(bin_dir: Path) -> str:
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
