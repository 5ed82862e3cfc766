"""The generic analysis steps, in report order: what any latent space of known factors gets.

Each is a function of an :class:`EncodedRun`; a study adds its own steps after these.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from heatmap_latent.analysis.density import local_gaps
from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.analysis.figures import error_histogram, examples_figure
from heatmap_latent.analysis.likelihood import DENSITY, importance_weighted_log_px
from heatmap_latent.analysis.probes import recoverability
from heatmap_latent.analysis.reconstruction import error_sparsity, error_summary
from heatmap_latent.analysis.step import Animation, Figure, GroupFigure, Step, StepResult, SummaryRow, not_applicable
from heatmap_latent.core.pixels import stored
from heatmap_latent.core.plotting import projection_figure
from heatmap_latent.core.traversals import traversal_figure, traversal_gif, traversal_points
from heatmap_latent.models import VAE
from heatmap_latent.models.losses import gaussian_kl
from heatmap_latent.scores.disentanglement import dci, mig, sap
from heatmap_latent.scores.supervised import beta_vae_score, factor_labels, factor_vae_score, modularity_explicitness
from heatmap_latent.scores.timeline import ACTIVE_VARIANCE, active_units

# values closer than this (relative to the largest magnitude, absolute below 1) are one value: a rank
# decided by rounding (fitted factors of 0 +- 1e-17 along the path of a collapsed model) differs
# between CPUs
RANK_RESOLUTION = 1e-9


def _settled(x: np.ndarray) -> np.ndarray:
    """``x`` in units of :data:`RANK_RESOLUTION` times its largest magnitude (at least 1), rounded, so
    near-ties are ties."""
    x = np.asarray(x, dtype=np.float64)
    scale = max(float(np.max(np.abs(x))) if x.size else 0.0, 1.0)
    return np.round(x / (scale * RANK_RESOLUTION))


def abs_spearman(a: np.ndarray, b: np.ndarray) -> float:
    """|Spearman| of two sequences; 0 where either is constant to :data:`RANK_RESOLUTION` (no trend)."""
    a, b = _settled(a), _settled(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(abs(spearmanr(a, b).statistic))


def reconstruction(encoded: EncodedRun) -> StepResult:
    images, recons, errors = encoded.test_reconstruction
    summary = {**error_summary(errors), "sparsity": error_sparsity(encoded.latents, encoded.test_idx, errors)}
    return StepResult(
        summary,
        [
            Figure(
                "error_hist",
                "Per-image Frobenius error on the test split; dashed: mean, dotted: p99.",
                "reconstruction",
                lambda: error_histogram({encoded.name: errors}, {encoded.name: summary}),
                overview=True,
            ),
            Figure(
                "examples",
                "Best and worst test reconstructions: originals above reconstructions (title: Frobenius error).",
                "reconstruction",
                lambda: examples_figure(images, recons, errors),
                overview=True,
            ),
        ],
    )


def projections(encoded: EncodedRun) -> StepResult:
    figures = [
        Figure(
            f"projection_{name}",
            f"Every image's code on the coordinate planes, coloured by {name}.",
            "latent",
            lambda values=values, name=name: projection_figure(encoded.latents, values, name),
            overview=name == encoded.declaration.lead,  # the factor the dataset leads with
        )
        for name, values in encoded.declaration.colour_by(encoded.factors).items()
    ]
    metrics = {
        "latent_dim": int(encoded.latents.shape[1]),
        "axis_std": encoded.latents.std(0).tolist(),
        "axis_range": np.ptp(encoded.latents, axis=0).tolist(),
    }
    return StepResult(metrics, figures)


TRAVERSAL_STEPS, TRAVERSAL_SPAN = 9, 3.0  # columns, and how many standard deviations each way


def traversals(encoded: EncodedRun) -> StepResult:
    """Per-dimension traversals of the mean code, as a figure and an animated GIF."""
    points, values = traversal_points(encoded.latents, n_steps=TRAVERSAL_STEPS, span=TRAVERSAL_SPAN)
    dim = encoded.latents.shape[1]
    decoded = encoded.decode(points.reshape(-1, dim))  # displayed: (N, S, S) or (N, S, S, C)
    images = decoded.reshape(dim, TRAVERSAL_STEPS, *decoded.shape[1:])
    metrics = {
        "centre": encoded.latents.mean(0).tolist(),
        "std": encoded.latents.std(0).tolist(),
        "span_std": TRAVERSAL_SPAN,
        "n_steps": TRAVERSAL_STEPS,
        # how much each dimension's sweep changes the decoded image: mean |pixel change| per step
        "image_change": [float(np.abs(np.diff(images[d], axis=0)).mean()) for d in range(dim)],
    }
    caption = (
        f"Each row moves one latent dimension of the mean code over +-{TRAVERSAL_SPAN:g} std of its codes "
        "(the value above each image), the others held; decoded."
    )
    return StepResult(
        metrics,
        [
            Figure("traversals", caption, "traversals", lambda: traversal_figure(images, values), overview=True),
            Figure(
                "traversals_gif",
                "The same traversals animated: each frame shows every dimension at one step.",
                "traversals",
                lambda: Animation(traversal_gif(images)),
            ),
        ],
    )


def factor_recoverability(encoded: EncodedRun) -> StepResult:
    """How well each ordered factor (continuous or ordinal, as the dataset declares) is read from the code."""
    tr, te = encoded.train_idx, encoded.test_idx
    ordered = encoded.declaration.ordered
    out = recoverability(
        encoded.latents[tr],
        {k: encoded.factors[k][tr] for k in ordered},
        encoded.latents[te],
        {k: encoded.factors[k][te] for k in ordered},
    )
    for name in ordered:
        per_axis = [
            abs_spearman(encoded.latents[te, d], encoded.factors[name][te]) for d in range(encoded.latents.shape[1])
        ]
        out[name]["best_axis"] = int(np.argmax(per_axis))
        out[name]["best_axis_spearman"] = float(max(per_axis))
    return StepResult(out)


def round_trip(encoded: EncodedRun) -> StepResult:
    """Factors -> image -> code -> decode -> factors, through the dataset's own inverse, for every
    test image (each is the rendering of its factors): per ordered factor how far the factors read
    off the decode land from the ones set (|fitted - set|: mean and p90), per categorical factor the
    share read wrong. The explorer's controllability map shades the same error over a grid of factors."""
    te = encoded.test_idx
    fitted = encoded.declaration.invert(
        stored(encoded.test_reconstruction.recons)
    )  # the decodes of the test codes, (N, C, S, S)
    out: dict[str, Any] = {}
    for factor in encoded.declaration.factors:
        if factor.name not in fitted:
            continue
        got, want = np.asarray(fitted[factor.name]), encoded.factors[factor.name][te]
        if factor.ordered:
            error = factor.distance(got, want)
            out[factor.name] = {"mean": float(error.mean()), "p90": float(np.quantile(error, 0.9))}
        else:
            out[factor.name] = {"share_wrong": float(np.mean(got != want))}
    return StepResult(out)


def _settings(scores: Any, name: str) -> dict[str, Any] | None:
    """A score's settings from ``analyze.yaml``'s ``scores`` (its defaults when none are given), or
    None when it is turned off."""
    given = dict((scores or {}).get(name, {}) or {})
    if not given.pop("enabled", True):
        return None
    return given


def disentanglement(encoded: EncodedRun) -> StepResult:
    """MIG, SAP, DCI and the field's other scores over every factor the dataset declares."""
    names = list(encoded.declaration.names)
    f_all = np.stack([encoded.factors[k] for k in names], axis=1)
    tr, te = encoded.train_idx, encoded.test_idx
    out: dict[str, Any] = {"factors": names}
    seconds: dict[str, float] = {}

    def timed(name: str, compute: Any) -> None:
        start = time.perf_counter()
        out[name] = compute()
        seconds[name] = time.perf_counter() - start

    timed("mig", lambda: mig(encoded.latents, f_all))
    timed("sap", lambda: sap(encoded.latents, f_all))
    timed("dci", lambda: dci(encoded.latents[tr], f_all[tr], encoded.latents[te], f_all[te], seed=encoded.seed))
    labels = factor_labels(f_all)
    off = "turned off in analyze.yaml (scores.{}.enabled=false)"
    for name, compute in (
        ("beta_vae", lambda s: beta_vae_score(encoded.latents, labels, encoded.seed, **s)),
        (
            "factor_vae",
            lambda s: factor_vae_score(encoded.latents, labels, active_units(encoded.latents), encoded.seed, **s),
        ),
        (
            "modularity_explicitness",
            lambda s: modularity_explicitness(encoded.latents[tr], labels[tr], encoded.latents[te], labels[te], **s),
        ),
    ):
        settings = _settings(encoded.scores, name)
        if settings is None:
            out[name] = not_applicable(off.format(name))
        else:
            timed(name, lambda c=compute, s=settings: c(s))
    out["timing"] = seconds  # per score, seconds (metrics.json; left out of comparisons of numbers)
    return StepResult(out)


@torch.no_grad()
def posterior_kl_per_dim(model: VAE, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """The mean closed-form KL(q(z_d | x) || N(0, 1)) of each dimension over ``images``, in nats."""
    was_training = model.training
    model.eval()
    try:
        batches = (x.to(model.device, model.dtype) for x in images.split(batch_size))
        parts = [gaussian_kl(*model.posterior(x)).sum(0).cpu() for x in batches]
    finally:
        model.train(was_training)
    return (torch.stack(parts).sum(0) / len(images)).double().numpy()


def latent_usage(encoded: EncodedRun) -> StepResult:
    """Active units over every image's code, and for a VAE the KL of each dimension on the test split:
    a collapsed dimension (inactive) is why a seed can land in a worse solution."""
    variance = encoded.latents.var(axis=0)
    active = variance > ACTIVE_VARIANCE  # as active_units() decides
    out: dict[str, Any] = {
        "threshold": ACTIVE_VARIANCE,
        "variance_per_dim": variance.tolist(),
        "active_units": int(active.sum()),
        "collapsed_dims": [int(d) for d in np.flatnonzero(~active)],
        "n_collapsed": int((~active).sum()),
    }
    if isinstance(encoded.run.model, VAE):
        images = encoded.run.datamodule.images[torch.from_numpy(encoded.test_idx)]
        kl = posterior_kl_per_dim(encoded.model, images)
        out["kl"] = {"per_dim": kl.tolist(), "min": float(kl.min()), "total": float(kl.sum())}
    else:
        out["kl"] = not_applicable(f"{type(encoded.run.model).__name__} has no posterior")
    return StepResult(out)


def likelihood(encoded: EncodedRun) -> StepResult:
    """log p(x) of a VAE on the first test images, importance-weighted with k posterior samples, and
    the ELBO (k = 1) beside it: the number generative-model papers compare (``analysis/likelihood.py``)."""
    settings = _settings(encoded.scores, "likelihood")
    if settings is None:
        return StepResult(not_applicable("turned off (scores.likelihood.enabled=false)"))
    return StepResult(likelihood_summary(encoded, **settings))


def likelihood_summary(encoded: EncodedRun, k: int = 100, max_images: int = 128) -> dict[str, Any]:
    images = encoded.run.datamodule.images[torch.from_numpy(encoded.test_idx[:max_images])]
    log_px = importance_weighted_log_px(encoded.model, images, k, seed=encoded.seed)
    elbo = importance_weighted_log_px(encoded.model, images, 1, seed=encoded.seed)
    kind = encoded.run.model.hparams.recon_loss
    binary = bool(((images == 0) | (images == 1)).all())
    return {
        "log_px": float(log_px.mean()),
        "log_px_sem": float(log_px.std() / len(log_px) ** 0.5) if len(log_px) > 1 else 0.0,
        "elbo": float(elbo.mean()),
        "k": k,
        "n_images": len(images),
        "pixels": int(images[0].numel()),
        "likelihood": DENSITY[kind],
        "density": kind == "mse" or binary,  # false: a cross-entropy bound, not a normalised density
    }


def density(encoded: EncodedRun) -> StepResult:
    local = local_gaps(encoded.latents, encoded.factors, encoded.declaration.ordered, encoded.instrument("torn"))
    return StepResult({**encoded.density.figures, "local": local})


def rows(*pairs: tuple[str, str]) -> tuple[SummaryRow, ...]:
    return tuple(SummaryRow(key, label) for key, label in pairs)


def _error_overview(firsts: dict[str, Any]) -> Any:
    """Each group's per-image test error, overlaid (``firsts``: group label -> its first run's analysis)."""
    return error_histogram(
        {k: a.test_errors for k, a in firsts.items()}, {k: a.metrics["reconstruction"] for k, a in firsts.items()}
    )


ROUND_TRIP = Step(
    "round_trip",
    "Round trip: factors -> image -> code -> decode -> factors read by the dataset's inverse (test split)",
    round_trip,
    rows(
        ("*.mean", "|fitted - set| {}: mean"),
        ("*.p90", "|fitted - set| {}: p90"),
        ("*.share_wrong", "share of {} read wrong"),
    ),
    not_applicable=lambda encoded: encoded.declaration.missing("invert"),
)

STANDARD_STEPS: tuple[Step, ...] = (
    Step(
        "reconstruction",
        "Reconstruction error (test split)",
        reconstruction,
        rows(
            ("mean", "mean Frobenius error"),
            ("median", "median"),
            ("p99", "p99"),
            ("tail_ratio", "p99 / median"),
            ("tail_share", "share > 3x median"),
            ("sparsity.spearman", "Spearman of error with the distance to the nearest other code"),
        ),
        group_figure=GroupFigure(
            "error_hist",
            "Test error of each group's first seed, overlaid; dashed: mean, dotted: p99.",
            _error_overview,
        ),
    ),
    Step("latent", "Latent space", projections, rows(("latent_dim", "latent dimensions"))),
    Step(
        "traversals",
        "Latent traversals",
        traversals,
        rows(("image_change", "mean |pixel change| per step, per dimension")),
    ),
    Step(
        "recoverability",
        "Factor recoverability (held-out R^2, best single axis)",
        factor_recoverability,
        rows(
            ("*.linear_r2", "R^2 {} (linear)"),
            ("*.knn_r2", "R^2 {} (k-NN)"),
            ("*.best_axis_spearman", "best axis |Spearman| {}"),
        ),
    ),
    Step(
        "disentanglement",
        "Disentanglement",
        disentanglement,
        rows(
            ("mig", "MIG"),
            ("sap", "SAP"),
            ("dci.disentanglement", "DCI disentanglement"),
            ("dci.completeness", "DCI completeness"),
            ("dci.informativeness", "DCI informativeness (R^2)"),
            ("beta_vae.eval_accuracy", "BetaVAE score (eval accuracy)"),
            ("factor_vae.eval_accuracy", "FactorVAE score (eval accuracy)"),
            ("factor_vae.n_active", "FactorVAE score: active dimensions"),
            ("modularity_explicitness.modularity", "modularity"),
            ("modularity_explicitness.explicitness_test", "explicitness (test ROC-AUC)"),
        ),
    ),
    Step(
        "latent_usage",
        "Latent usage (active units, KL per dimension)",
        latent_usage,
        rows(
            ("active_units", "active units (code variance > 0.01)"),
            ("n_collapsed", "collapsed dimensions"),
            ("collapsed_dims", "which are collapsed"),
            ("kl.per_dim", "KL per dimension, nats (test split)"),
            ("kl.min", "smallest KL of a dimension, nats"),
        ),
    ),
    Step(
        "likelihood",
        "Likelihood (importance-weighted log p(x), test split)",
        likelihood,
        rows(
            ("log_px", "log p(x), nats per image (importance-weighted, k samples)"),
            ("elbo", "ELBO, nats per image (k = 1)"),
            ("k", "k"),
            ("n_images", "test images"),
        ),
        not_applicable=lambda encoded: (
            None
            if isinstance(encoded.run.model, VAE)
            else f"{type(encoded.run.model).__name__} has no posterior: no likelihood to estimate"
        ),
        outputs=("log_px_sem", "density", "pixels", "likelihood"),
    ),
    Step(
        "density",
        "Latent density (standardised codes; whitened inside the hull)",
        density,
        rows(
            ("nn_median", "NN distance, median"),
            ("nn_p95", "NN distance, p95"),
            ("empty_share", "share of box empty"),
            ("hull.empty_share", "share of the hull empty (whitened codes)"),
            ("hull.largest_gap", "largest empty ball in the hull / median NN distance (whitened)"),
            ("trimmed_hull.empty_share", "share of the trimmed hull empty (the central 95% of the codes)"),
            ("trimmed_hull.largest_gap", "largest empty ball in the trimmed hull / median NN distance"),
            ("local.gap_ratio_max", "one grid step apart: largest code distance over the steps continuing it"),
            ("local.torn_share", "one grid step apart: share of steps torn (over 3x the steps continuing them)"),
        ),
    ),
    ROUND_TRIP,
)
