"""The heatmaps stay in their own modules: no heatmap factor name in the code (comments and docstrings
aside) of the generic layers, Python and JavaScript; what they need of a dataset they read from its
declaration (``data/factors.py``). The import contracts (pyproject.toml) hold the imports; this holds
the names, which an import contract cannot see."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

PACKAGE = ROOT / "heatmap_latent"
# every layer but the datasets' own (data/), the heatmap study's (study/) and the benchmarks (bench/, which
# time the heatmaps' renderer among everything else)
GENERIC = ("analysis", "core", "explorer", "latent_tab", "models", "report", "scores", "training")
# the heatmap domain's own script: the page's twin of data/heatmaps.py and data/heatmap_fit.py
OWN = {PACKAGE / "explorer" / "domain_heatmaps.js"}
HEATMAP_NAMES = re.compile(r"\b(var_x|var_y|rho|df|FACTOR_NAMES|HEATMAP_FACTORS|student_t)\b")


def python_code(source: str) -> str:
    """The code without comments and docstrings: the syntax tree written back."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def javascript_code(source: str) -> str:
    """The code without its // and /* */ comments (no string of these scripts holds a //)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)


def generic_files():
    for layer in GENERIC:
        for path in sorted((PACKAGE / layer).rglob("*")):
            if path.suffix in (".py", ".js") and path not in OWN:
                yield path


def test_no_heatmap_factor_name_in_the_generic_layers_code():
    found = []
    for path in generic_files():
        source = path.read_text()
        code = python_code(source) if path.suffix == ".py" else javascript_code(source)
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in HEATMAP_NAMES.finditer(code)]
    assert found == []


def test_the_name_check_sees_a_name_in_code_and_not_in_comments():
    assert HEATMAP_NAMES.search(python_code('"""rho in a docstring"""\nx = 1  # var_x in a comment\n')) is None
    assert HEATMAP_NAMES.search(python_code('pick = "rho"\n')) is not None
    assert HEATMAP_NAMES.search(javascript_code("// var_x\nconst a = 1; /* rho */\n")) is None
    assert HEATMAP_NAMES.search(javascript_code("const pick = f.var_x;\n")) is not None
    assert len(list(generic_files())) > 50


def test_the_study_reaches_the_explorers_command_by_its_entry_point_for_its_datasets_only():
    """``python -m heatmap_latent.explorer`` imports no study (the import contract holds it): the paths
    come from the ``heatmap_latent.page_paths`` entry points, one per dataset the study is about."""
    from heatmap_latent.core.plugins import load_named, registered
    from heatmap_latent.explorer.__main__ import PAGE_PATHS
    from heatmap_latent.study.paths import explorer_paths
    from heatmap_latent.study.scope import DATASETS

    assert sorted(registered(PAGE_PATHS)) == sorted(DATASETS)
    assert all(load_named(PAGE_PATHS, name) is explorer_paths for name in DATASETS)
    assert load_named(PAGE_PATHS, "bars") is None


LONGEST_FUNCTION = 80  # lines; eslint.config.mjs holds the page's scripts to the same


def long_functions(source: str, name: str) -> list[str]:
    return [
        f"{name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > LONGEST_FUNCTION
    ]


def test_no_python_function_of_the_package_over_80_lines():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += long_functions(path.read_text(), str(path.relative_to(ROOT)))
    assert found == []
    long = "def f():\n" + "    x = 1\n" * LONGEST_FUNCTION
    assert long_functions(long, "t") == ["t:1 f (81 lines)"]
