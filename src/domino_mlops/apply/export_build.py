"""Build and push a build context with the container tool on PATH: docker, podman or buildah.

The registry password reaches the tool only on its standard input (``login --password-stdin``),
never in argv, and the tool runs with an allow-listed environment (what a container tool needs:
PATH, HOME, locale, proxies, CA files, its own DOCKER_*/CONTAINERS_*/BUILDAH_* settings) and its own
throw-away auth file, so neither MLflow's URI with its password, nor a Domino or model token, nor
any other secret of the job reaches it, and no login outlives the run on a shared runner. The digest comes
from the push: ``--digestfile`` (podman, buildah) or the ``digest: sha256:...`` line (docker).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from domino_mlops.errors import ExportFailed
from domino_mlops.observed.registry_credentials import Login

log = logging.getLogger(__name__)
TOOLS = ("docker", "podman", "buildah")
DIGEST = re.compile(r"\bsha256:[0-9a-f]{64}\b")
BUILD_TIMEOUT = 3600.0
PUSH_TIMEOUT = 1800.0


def find_tool(environ: Mapping[str, str] | None = None) -> str | None:
    """The first of docker, podman, buildah on PATH (or CONTAINER_TOOL when set), as a path."""
    env = os.environ if environ is None else environ
    chosen = env.get("CONTAINER_TOOL", "").strip()
    for name in (chosen,) if chosen else TOOLS:
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            return found
    return None


# What docker, podman and buildah read from their environment; nothing else is handed to them.
_PASSED = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME",
                     "XDG_DATA_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                     "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "STORAGE_DRIVER", "STORAGE_OPTS",
                     "CONTAINER_HOST", "CONTAINER_CONNECTION"})
_PASSED_PREFIXES = ("LC_", "DOCKER_", "BUILDKIT_", "BUILDX_", "CONTAINERS_", "BUILDAH_", "PODMAN_")


def tool_environment(environ: Mapping[str, str], hide: Iterable[str] = ()) -> dict[str, str]:
    """The container tool's environment: only the allow-listed names, never one of ``hide``."""
    hidden = set(hide)
    return {name: value for name, value in environ.items()
            if name not in hidden and (name in _PASSED or name.startswith(_PASSED_PREFIXES))}


class ContainerTool:
    """One container tool, one throw-away auth file, run with a cleaned environment."""

    def __init__(self, path: str, *, hide: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.kind = next((t for t in TOOLS if Path(path).name.startswith(t)), "docker")
        self._secrets: list[str] = []
        # The credential variables are hidden even where a name would pass: the tool reads stdin.
        base = tool_environment(os.environ if environ is None else environ, hide)
        self._home = tempfile.TemporaryDirectory(prefix="dmlops-registry-auth-")
        base["DOCKER_CONFIG"] = self._home.name
        base["REGISTRY_AUTH_FILE"] = str(Path(self._home.name) / "auth.json")
        self._env = base

    def close(self) -> None:
        self._home.cleanup()

    def __enter__(self) -> ContainerTool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def login(self, login: Login) -> None:
        self._secrets.append(login.password)
        self._run(["login", "--username", login.username, "--password-stdin", login.registry_host],
                  what=f"login to {login.registry_host}", stdin=login.password, timeout=120.0)

    def build(self, context: Path, image: str) -> None:
        self._run(["build", "--tag", image, str(context)], what=f"build of {image}", timeout=BUILD_TIMEOUT)

    def push(self, image: str) -> str | None:
        """Push; return the pushed manifest's digest (None when the tool did not say)."""
        if self.kind == "docker":
            output = self._run(["push", image], what=f"push of {image}", timeout=PUSH_TIMEOUT)
            found = DIGEST.findall(output)
            return found[-1] if found else None
        with tempfile.TemporaryDirectory(prefix="dmlops-digest-") as where:
            digest_file = Path(where) / "digest"
            output = self._run(["push", "--digestfile", str(digest_file), image], what=f"push of {image}",
                               timeout=PUSH_TIMEOUT)
            text = digest_file.read_text().strip() if digest_file.is_file() else output
        found = DIGEST.findall(text)
        return found[-1] if found else None

    def _run(self, args: Sequence[str], *, what: str, timeout: float, stdin: str | None = None) -> str:
        argv = [self.path, *args]
        log.info("running %s", " ".join(argv))
        try:
            done = subprocess.run(argv, input=stdin if stdin is not None else "", capture_output=True, text=True,
                                  env=self._env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ExportFailed(f"the {what} took longer than {timeout:.0f} s", log_text=self._clean(
                f"{exc.stdout or ''}{exc.stderr or ''}")) from exc
        except OSError as exc:
            raise ExportFailed(f"cannot run {self.path}: {exc.strerror or exc}",
                               hint="Check that the container tool is installed and executable.") from exc
        output = self._clean(done.stdout + done.stderr)
        if done.returncode != 0:
            tail = " ".join(output.strip().splitlines()[-1:]) or "no output"
            raise ExportFailed(f"the {what} failed ({Path(self.path).name} exit code {done.returncode}): {tail[:300]}",
                               hint=_hint(what), log_text=output)
        return output

    def _clean(self, text: str) -> str:
        """Tool output with any secret it might echo replaced."""
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


def _hint(what: str) -> str:
    if what.startswith("login"):
        return ("Check the registry user name and password in the variables the target's credentials name "
                "(GitHub secrets of the export environment).")
    if what.startswith("push"):
        return "Check that the registry login may push to this repository, and that the registry is reachable."
    return "Read the build output above; fix the Dockerfile or the templates folder, or the model's requirements."
