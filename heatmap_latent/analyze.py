"""``analyze(cfg)`` behind ``analyze.py``: load the runs, run the steps on each, group them over seeds,
test the heatmap study's claims where its datasets are among the runs, write the report and each run's
explorer."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from heatmap_latent.analysis.dlib_scores import DLIB_SCORES
from heatmap_latent.analysis.grouping import Group, by_condition, group_runs
from heatmap_latent.analysis.loading import LoadedRun, RunLoadError, expand_runs, load_run
from heatmap_latent.analysis.pipeline import analyze_run
from heatmap_latent.analysis.standard_steps import STANDARD_STEPS
from heatmap_latent.analysis.step import Step
from heatmap_latent.analysis.subset import SubsetDataModule, images_read
from heatmap_latent.core import checks
from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.errors import UserError
from heatmap_latent.explorer.page import ExportError, explorer_data, explorer_html
from heatmap_latent.report.report import slug, write_report
from heatmap_latent.study import scope
from heatmap_latent.study.claims import study_claims
from heatmap_latent.study.digest import said, verdict_digest
from heatmap_latent.study.dose import dose_response
from heatmap_latent.study.oracles import known_answers
from heatmap_latent.study.paths import explorer_paths
from heatmap_latent.study.placebo import placebo
from heatmap_latent.study.results import results
from heatmap_latent.study.sensitivity import sensitivity
from heatmap_latent.study.shape import SHAPE_STEP, shape_metrics
from heatmap_latent.study.steps import STEPS
from heatmap_latent.study.verdicts import RULE, evaluate_by_condition

log = logging.getLogger(__name__)


def _entries(cfg: DictConfig) -> list[str]:
    given = {k: cfg.get(k) for k in ("run", "study") if cfg.get(k) is not None}
    if len(given) != 1:
        raise RunLoadError("give exactly one of run=PATH, study=PATH (a multirun directory) or study=[PATH,PATH,...]")
    value = next(iter(given.values()))
    return [str(v) for v in value] if isinstance(value, (list, ListConfig)) else [str(value)]


def _unique_names(loaded: list[LoadedRun]) -> None:
    """Two runs named alike (job 0 of two sweeps): name each by as many of its directory's last path
    parts as tell them apart (``ae/0``; ``dose/ae/0`` beside ``placebo/ae/0``)."""
    seen: dict[str, list[LoadedRun]] = {}
    for run in loaded:
        seen.setdefault(run.name, []).append(run)
    for name, runs in seen.items():
        if len(runs) < 2:
            continue
        parts = [run.run_dir.resolve().parts for run in runs]
        depth = 2
        while depth < max(map(len, parts)) and len({p[-depth:] for p in parts}) < len(parts):
            depth += 1
        for run, p in zip(runs, parts):
            run.name = f"{name[: name.rindex('(')]}({'/'.join(p[-depth:])})"


def _explorers(cfg: DictConfig, loaded: list[LoadedRun], analyses: list[Any]) -> dict[str, tuple[str, str]]:
    """Each run's offline latent explorer, next to the report: run name -> (file name, HTML)."""
    explorers = {}
    for run, a in zip(loaded, analyses):
        name = "explorer.html" if len(loaded) == 1 else f"explorer_{slug(a.name)}.html"
        # the study's paths in the page's path picker, for the study's datasets only
        paths = partial(explorer_paths, n=cfg.n_path) if scope.applies([run.datamodule.name]) else None
        try:
            data = explorer_data(run, a.latents, snapshots_every=cfg.explorer_snapshots_every, paths=paths)
        except ExportError as err:  # a decoder with no JavaScript twin (an oracle's renderer): no page
            log.warning("%s: no explorer page: %s", a.name, err)
            continue
        explorers[a.name] = (name, explorer_html(data))
    return explorers


def _read_images(cfg: DictConfig, loaded: list[LoadedRun], study: bool) -> None:
    """Each run's data module narrowed to the images it is analysed on (``max_images``); the study's
    claims are judged on every image, so a study that would read a subset is refused."""
    cap = cfg.get("max_images")
    if cap is not None:
        cap = checks.integer("max_images", cap, 1)
    for run in loaded:
        run.datamodule = images_read(run.datamodule, cap, int(cfg.seed))
        if study and isinstance(run.datamodule, SubsetDataModule):
            raise RunLoadError(
                f"max_images={cap} would analyse {run.name} on a subset of its {run.datamodule.n_total} "
                "images; the heatmap study's claims are judged on every image (max_images=null)"
            )


def _steps(cfg: DictConfig, study: bool) -> tuple[Step, ...]:
    """The steps an analysis runs: the study's or the standard ones, disentanglement_lib's scores where
    asked, and those ``skip`` names made not applicable (``metrics.json`` and the report say why); an
    unknown name is one line listing the steps, and the study (its claims read every step) is refused
    any."""
    steps = STEPS if study else STANDARD_STEPS
    if cfg.scores.dlib.enabled:  # disentanglement_lib's DCI and SAP, after the scores they sit beside
        steps = (*steps, DLIB_SCORES)
    skip = [str(s) for s in (cfg.get("skip") or [])]
    names = [s.name for s in steps]
    unknown = [s for s in skip if s not in names]
    if unknown:
        raise UserError(f"skip: no analysis step named {', '.join(unknown)}; the steps are {', '.join(names)}")
    if skip and study:
        raise UserError(f"skip={skip}: the heatmap study's claims read every step; not leaving any out")
    reason = "left out by analyze.yaml skip"
    return tuple(replace(s, not_applicable=lambda _e, r=reason: r) if s.name in skip else s for s in steps)


def analyze(cfg: DictConfig) -> dict[str, Any]:
    """Analyse the runs of ``cfg.run`` / ``cfg.study`` into ``cfg.output_dir``; returns metrics.json's content."""
    runs = expand_runs(_entries(cfg))
    loaded = [
        load_run(path, cfg.checkpoint, trusted_data=cfg.trust_datasets, trusted_model=cfg.trust_models) for path in runs
    ]  # every run loads before any output is written
    _unique_names(loaded)
    # the heatmap study (its steps, claims and paths) only where its datasets are among the runs
    study = scope.applies(run.datamodule.name for run in loaded)
    _read_images(cfg, loaded, study)
    steps = _steps(cfg, study)
    scores = OmegaConf.to_container(cfg.scores, resolve=True)
    instruments = OmegaConf.to_container(cfg.instruments, resolve=True)
    analyses = [analyze_run(run, steps, cfg.n_path, cfg.n_strip, cfg.seed, scores, instruments) for run in loaded]
    metrics = {a.name: a.metrics for a in analyses}
    identities = [a.identity for a in analyses]
    codes = {a.name: a.latents for a in analyses}
    for name, shape in shape_metrics(
        group_runs(identities, metrics), codes, metrics, scores.get("udr"), instruments["knn_k"]
    ).items():
        metrics[name]["shape"] = shape
    groups: list[Group] = group_runs(identities, metrics)  # again, with the shape metrics aggregated
    result: dict[str, Any] = {
        "runs": metrics,
        "groups": [g.to_json() for g in groups],
        "conditions": list(by_condition(groups)),
    }
    claims: list[dict[str, Any]] = []
    rule = ""
    if study:
        min_seeds = int(cfg.claims.min_seeds)
        claims = evaluate_by_condition(study_claims(cfg.claims), groups, metrics, min_seeds)
        digest = verdict_digest(cfg)
        rule = RULE.format(min_seeds=min_seeds)
        result.update(
            claims_rule=rule,
            digest=digest,
            claims=claims,
            sensitivity=sensitivity(cfg.claims, groups, metrics, min_seeds, claims),
        )
        if cfg.placebo:  # every VAE-AE comparison again between two halves of one model's seeds
            result["placebo"] = placebo(
                cfg.claims, groups, metrics, codes, min_seeds, scores.get("udr"), instruments["knn_k"]
            )
        margins = {name: float(e.value) for name, e in cfg.claims.min_effect.items()}
        dose = dose_response(groups, metrics, min_seeds, margins)  # a sweep over one numeric override of the VAE
        if dose:
            result["dose_response"] = dose
        oracles = known_answers(groups)  # runs of study/oracles.py: what each instrument reads on them
        if oracles:
            result["oracles"] = oracles
    title = analyses[0].name if len(analyses) == 1 else f"{len(analyses)} runs in {len(groups)} groups"
    explorers = _explorers(cfg, loaded, analyses) if cfg.explorer else {}
    report = write_report(
        analyses,
        groups,
        claims,
        result,
        Path(cfg.output_dir),
        f"heatmap-latent: {title}",
        figures=cfg.figures,
        steps=(*steps, SHAPE_STEP),
        rule=f"{rule} {said(result['digest'])}" if study else rule,
        claims_need=scope.what_a_verdict_needs(int(cfg.claims.min_seeds)) if study else "",
        claims_commands=scope.COMMANDS,
        placebo=result.get("placebo"),
        dose_response=result.get("dose_response"),
        oracles=result.get("oracles"),
        explorers=explorers,
    )
    log.info("report: %s", report)
    if study:  # the study's compact results beside metrics.json (study/results.py)
        write_atomic(Path(cfg.output_dir) / "results.json", json.dumps(results(result, result["digest"]), indent=1))
        log.info("%s", said(result["digest"]))
    for claim in claims:
        reading = f", {claim['reading']}" if claim["reading"] else ""
        log.info("claim %d (%s%s): %s", claim["id"], claim["condition"], reading, claim["verdict"])
    return result
