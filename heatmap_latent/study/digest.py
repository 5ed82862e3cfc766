"""One digest over everything that decides a verdict: ``conf/analyze.yaml``'s ``claims`` and
``instruments`` sections, and the code of the modules that measure and judge (their syntax trees,
so comments, docstrings and formatting aside). A threshold, an instrument constant or a line of
verdict code that moves, moves the digest; ``FROZEN`` is the digest committed before the
confirmatory run trained (docs/analysis.md, "Confirmatory run"), and every report and
``metrics.json`` say whether their analysis used it.

    python -m heatmap_latent.study.digest      (prints today's digest and its parts)
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from typing import Any

from omegaconf import OmegaConf

# the digest committed for the confirmatory run on seeds 11-15 (docs/analysis.md)
FROZEN = "99bbad0b1e04a588"

# the modules whose code decides a verdict: the claims and their rule, and every instrument a claim
# reads (the measures, the realism's fit, the paths, the pairing of seeds, the codes' float64 ties)
VERDICT_MODULES = (
    "heatmap_latent.study.claims",
    "heatmap_latent.study.rules",
    "heatmap_latent.study.verdicts",
    "heatmap_latent.study.scope",
    "heatmap_latent.study.steps",
    "heatmap_latent.study.statements",
    "heatmap_latent.study.realism",
    "heatmap_latent.study.geometry",
    "heatmap_latent.study.paths",
    "heatmap_latent.study.shape",
    "heatmap_latent.study.dose",
    "heatmap_latent.analysis.density",
    "heatmap_latent.analysis.probes",
    "heatmap_latent.analysis.similarity",
    "heatmap_latent.analysis.geometry",
    "heatmap_latent.analysis.reconstruction",
    "heatmap_latent.analysis.standard_steps",
    "heatmap_latent.analysis.encoded",
    "heatmap_latent.analysis.grouping",
    "heatmap_latent.analysis.step",
    "heatmap_latent.analysis.instruments",
    "heatmap_latent.data.heatmap_fit",
    "heatmap_latent.data.heatmaps",
    "heatmap_latent.core.ties",
)
# the modules of the study's and the analysis's packages that decide no verdict, each with why
NOT_VERDICT = {
    "heatmap_latent.analysis.anchors": "the benchmark's scores beside the published ones, a table no claim reads",
    "heatmap_latent.analysis.dlib_scores": "disentanglement_lib's DCI and SAP, an optional step no claim reads",
    "heatmap_latent.analysis.figures": "draws figures",
    "heatmap_latent.analysis.likelihood": "no claim reads the likelihood",
    "heatmap_latent.analysis.loading": "loads a run (its checkpoint: analyze.yaml checkpoint)",
    "heatmap_latent.analysis.pipeline": "runs the steps and times them",
    "heatmap_latent.analysis.subset": "which images a run is analysed on; a study is refused a subset (max_images)",
    "heatmap_latent.study.digest": "this digest",
    "heatmap_latent.study.oracle_model": "the oracles' models: known answers, not the study's verdicts",
    "heatmap_latent.study.oracles": "the oracles' writer and answers table",
    "heatmap_latent.study.placebo": "the placebo's count of the rule's verdicts, beside the study's",
    "heatmap_latent.study.results": "writes and tabulates the results",
    "heatmap_latent.study.sensitivity": "the verdicts under other thresholds, shown beside them",
}
# the sections of conf/analyze.yaml whose values decide a verdict
VERDICT_SECTIONS = ("claims", "instruments")


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return tree


def code_text(source: str) -> str:
    """A module's syntax tree as text: what the code does, not how it is written or commented."""
    return ast.dump(_without_docstrings(ast.parse(source)), include_attributes=False)


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"verdict module {module} not found")
    with open(spec.origin, encoding="utf-8") as f:
        return f.read()


def code_digest(modules: tuple[str, ...] = VERDICT_MODULES, sources: dict[str, str] | None = None) -> str:
    """The digest of the verdict modules' code (``sources``: module -> source, to digest an edit)."""
    h = hashlib.sha256()
    for module in modules:
        source = (sources or {}).get(module) or _source(module)
        h.update(module.encode() + b"\0" + code_text(source).encode() + b"\0")
    return h.hexdigest()[:16]


def settings_digest(cfg: Any) -> str:
    """The digest of ``analyze.yaml``'s verdict sections (``cfg``: the whole analysis config)."""
    settings = {k: OmegaConf.to_container(cfg[k], resolve=True) for k in VERDICT_SECTIONS}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def verdict_digest(cfg: Any, sources: dict[str, str] | None = None) -> dict[str, Any]:
    """``{"digest", "settings", "code", "frozen", "is_frozen"}``: the digest of both parts, each part's."""
    settings, code = settings_digest(cfg), code_digest(sources=sources)
    digest = hashlib.sha256(f"{settings}:{code}".encode()).hexdigest()[:16]
    return {"digest": digest, "settings": settings, "code": code, "frozen": FROZEN, "is_frozen": digest == FROZEN}


def said(digest: dict[str, Any]) -> str:
    """The digest in one sentence, as the report and the log print it."""
    frozen = (
        "the digest frozen for the confirmatory run"
        if digest["is_frozen"]
        else f"not the frozen digest {digest['frozen']}"
    )
    return f"Verdict digest {digest['digest']} ({frozen}; settings {digest['settings']}, code {digest['code']})."


if __name__ == "__main__":
    from heatmap_latent.core.conf import compose_config

    print(json.dumps(verdict_digest(compose_config("analyze", [])), indent=2))
