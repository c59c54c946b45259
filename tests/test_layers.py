"""The layout shows the architecture (README, "Layout"): each layer imports only the layers below
it, no module imports itself back through others, and the pure layers load no HTTP library.

Read from the source (ast), so an import added anywhere, even inside a function or under
``if TYPE_CHECKING:`` (an annotation that names a higher layer is a leak too), is caught.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "domino_mlops"

# Bottom first: desired -> observed -> plan -> apply -> report, with what they stand on below
# and what drives them above. A layer may import its own modules and any layer before it.
LAYERS = (
    "errors",       # the exception tree every layer raises
    "clients",      # HTTP to Domino, MLflow and GitHub; value types apart from the requests
    "desired",      # what the files in the repository ask for
    "state",        # what runs leave in MLflow for later runs: ledger and leases
    "observed",     # what Domino, MLflow and git hold now
    "connections",  # the credentials of a run, wired to clients
    "plan",         # desired + observed -> a plan (pure)
    "apply",        # the plan applied, step by step
    "kinds",        # one module per kind of change, over plan and apply
    "api",          # the facade: one call per verb, owning the safety contract
    "report",       # logs, summaries, outputs, PR comments
    "monitor",      # the monitoring agent of exported models
    "commands",     # argv -> request -> api -> report
    "cli",          # the entry point
)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "errors"  # the package itself imports nothing


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "export_templates" in path.parts:
            continue  # files rendered into an export's build context, not modules of the package
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the domino_mlops modules it imports (a `from package import module` names the module)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("domino_mlops"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("domino_mlops"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in modules else node.module)
        graph[name] = {t for t in targets if t != name}
    return graph


GRAPH = _imports(_modules())


def test_every_module_belongs_to_a_layer():
    unknown = sorted({_layer(m) for m in GRAPH} - set(LAYERS))
    assert not unknown, f"modules outside the layer order: {unknown}; add them to LAYERS where they belong"


def test_no_layer_imports_a_layer_above_it():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    upward = sorted(f"{source} -> {target}" for source, targets in GRAPH.items() for target in targets
                    if _layer(target) in rank and _layer(source) in rank
                    and rank[_layer(target)] > rank[_layer(source)])
    assert not upward, "imports that climb back up:\n" + "\n".join(upward)


def test_the_import_graph_has_no_cycle():
    # Tarjan's strongly connected components: any component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in GRAPH:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("package", ["domino_mlops.desired", "domino_mlops.plan", "domino_mlops.state.entries"])
def test_the_pure_layers_load_no_http_library(package):
    """The planner is pure: importing every module of it, in a fresh interpreter, loads neither
    requests nor urllib3 (a plan of 10,000 entries should not pay for them, and a value type
    beside an HTTP call is a layer leak)."""
    probe = (
        "import importlib, pkgutil, sys\n"
        f"root = importlib.import_module({package!r})\n"
        f"for m in pkgutil.walk_packages(getattr(root, '__path__', []), {package!r} + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted(n for n in ('requests', 'urllib3') if n in sys.modules)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(SRC)}).stdout.strip()
    assert loaded == "", f"importing {package} loaded {loaded}"
