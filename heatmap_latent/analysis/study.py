"""Analyse one loaded run: every number of the report and the figures that show them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.spatial import cKDTree

from heatmap_latent.analysis import geometry as geo
from heatmap_latent.analysis.density import latent_density
from heatmap_latent.analysis.disentanglement import dci, mig, sap
from heatmap_latent.analysis.figures import examples_figure, latent_3d, trajectory_figure
from heatmap_latent.analysis.loading import LoadedRun
from heatmap_latent.analysis.probes import knn_classifier, recoverability
from heatmap_latent.analysis.realism import realism_distance
from heatmap_latent.analysis.reconstruction import error_summary
from heatmap_latent.models.losses import frobenius_error
from heatmap_latent.plotting import colour_factors, projection_figure

log = logging.getLogger(__name__)

CONTINUOUS = ("var_x", "var_y", "rho")


@dataclass
class RunAnalysis:
    name: str
    metrics: dict[str, Any]
    test_errors: np.ndarray
    figures: dict[str, Any] = field(default_factory=dict)  # name -> matplotlib or plotly figure
    captions: dict[str, str] = field(default_factory=dict)


class Progress:
    """Logs ``[i/n] step`` with the time each step took."""

    def __init__(self, total: int, prefix: str) -> None:
        self.total, self.prefix, self.count = total, prefix, 0

    def __call__(self, label: str, fn: Callable[[], Any]) -> Any:
        self.count += 1
        start = time.perf_counter()
        log.info("%s [%d/%d] %s ...", self.prefix, self.count, self.total, label)
        out = fn()
        log.info(
            "%s [%d/%d] %s done in %.1f s", self.prefix, self.count, self.total, label, time.perf_counter() - start
        )
        return out


@torch.no_grad()
def _decode(model, z: np.ndarray) -> np.ndarray:
    out = [model.decode(chunk.to(model.device)).cpu() for chunk in torch.as_tensor(z, dtype=torch.float32).split(256)]
    return torch.cat(out)[:, 0].numpy()


def _strip_indices(n_points: int, n_images: int) -> np.ndarray:
    return np.linspace(0, n_points - 1, min(n_images, n_points)).round().astype(int)


def study_paths(latents: np.ndarray, factors: dict[str, np.ndarray], n: int) -> tuple[list[geo.Path], dict]:
    """The study's decoded trajectories, every choice derived from the data."""
    dim = latents.shape[1]
    rho_axis = geo.tracking_axis(latents, factors["rho"])
    others = [d for d in range(dim) if d != rho_axis]
    info: dict[str, Any] = {"rho_axis": rho_axis}
    paths = []
    for plane in ((0, 2), (0, 1)):
        if max(plane) < dim:
            paths.append(
                geo.Path(
                    f"line_{plane[0]}_{plane[1]}",
                    geo.principal_line(latents, plane, n),
                    plane,
                    f"straight line on the z{plane[0]}-z{plane[1]} plane along the data's main direction",
                )
            )
    if len(others) >= 2:
        plane = (others[0], others[1])
        paths.append(
            geo.Path(
                "circle",
                geo.circle(latents, plane, n),
                plane,
                f"circle in the z{plane[0]}-z{plane[1]} plane (the axes that do not track rho)",
            )
        )
    spline, knots = geo.isovariance_spline(latents, factors["var_x"], factors["var_y"], factors["rho"], n)
    info["isovariance_knots"] = knots.tolist()
    plane = (rho_axis, others[0]) if others else (0, 0)
    paths.append(
        geo.Path(
            "isovariance_spline",
            spline,
            plane,
            f"spline through the var_x ~ var_y strip, binned along z{rho_axis} (tracks rho)",
        )
    )
    if dim == 3:
        for k, (normal, on_plane) in enumerate(geo.bounding_planes(latents, 2)):
            seg = geo.path_on_plane(normal, on_plane, n)
            drawn = tuple(int(a) for a in np.argsort(np.abs(normal))[:2])  # the plane it is most face-on in
            paths.append(
                geo.Path(
                    f"bounding_plane_{k}",
                    seg,
                    tuple(sorted(drawn)),
                    f"path on hull plane {k} (normal {np.round(normal, 2).tolist()})",
                )
            )
    lo_tail, hi_tail = geo.tails(latents, factors["var_x"] - factors["var_y"])
    tail_path = geo.line(lo_tail, hi_tail, n)
    best_plane = tuple(sorted(int(a) for a in np.argsort(-np.abs(hi_tail - lo_tail))[:2]))
    paths.append(
        geo.Path(
            "empty_between_tails",
            tail_path,
            best_plane,
            "straight path between the tails (5% lowest and highest var_x - var_y)",
        )
    )
    return paths, info


def analyze_run(run: LoadedRun, n_path: int = 40, n_strip: int = 10, seed: int = 0) -> RunAnalysis:
    """Encode every image (posterior mean) and compute the whole study on the test split."""
    model, dm = run.model, run.datamodule
    grid = dict(run.cfg.data.grid)
    student_t = "df" in dm.factors
    dfs = (2.0, 200.0) if student_t else None
    step = Progress(9 if student_t else 8, run.name)
    metrics: dict[str, Any] = {
        "run": {
            "name": run.name,
            "run_dir": str(run.run_dir),
            "checkpoint": str(run.checkpoint),
            "model": type(model).__name__,
            "data": dm.name,
        }
    }
    figures: dict[str, Any] = {}
    captions: dict[str, str] = {}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    latents = step("encoding every image (posterior mean)", lambda: model.embed(dm.images).numpy())
    factors = {k: np.asarray(v, dtype=np.float64) for k, v in dm.factors.items()}
    tr, te = dm.train_idx, dm.test_idx
    timings["encode_s"] = time.perf_counter() - t0

    def reconstruction():
        test_images = dm.images[torch.from_numpy(te)]
        recons = torch.from_numpy(_decode(model, latents[te]))[:, None]
        errors = frobenius_error(recons, test_images).numpy()
        return test_images[:, 0].numpy(), recons[:, 0].numpy(), errors

    test_images, test_recons, errors = step("test reconstruction error", reconstruction)
    metrics["reconstruction"] = error_summary(errors)
    figures["examples"] = examples_figure(test_images, test_recons, errors)
    captions["examples"] = "Best and worst test reconstructions (title: Frobenius error)."

    def projections():
        for name, values in colour_factors(factors).items():
            figures[f"projection_{name}"] = projection_figure(latents, values, name)
            captions[f"projection_{name}"] = f"Every image's code on the coordinate planes, coloured by {name}."

    step("latent projections", projections)

    metrics["recoverability"] = step(
        "factor recoverability (linear and k-NN R^2)",
        lambda: recoverability(
            latents[tr], {k: factors[k][tr] for k in CONTINUOUS}, latents[te], {k: factors[k][te] for k in CONTINUOUS}
        ),
    )

    def disentanglement():
        f_all = np.stack([factors[k] for k in CONTINUOUS], axis=1)
        return {
            "mig": mig(latents, f_all),
            "sap": sap(latents, f_all),
            "dci": dci(latents[tr], f_all[tr], latents[te], f_all[te], seed=seed),
        }

    metrics["disentanglement"] = step("disentanglement (MIG, SAP, DCI)", disentanglement)
    density, empty_points = step("latent density", lambda: latent_density(latents, seed=seed))
    metrics["density"] = density

    tree = cKDTree(latents)

    def decode_strip(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]], np.ndarray]:
        """Decoded images at ``points``, the distance to and factors of the nearest code, realism."""
        decoded = _decode(model, points)
        dist, near = tree.query(points)
        near_f = [{k: float(factors[k][i]) for k in factors} for i in near]
        return decoded, dist, near_f, realism_distance(decoded, grid["low"], grid["high"], dfs)[0]

    def trajectories():
        paths, info = study_paths(latents, factors, n_path)
        rng = np.random.default_rng(seed)
        out: dict[str, Any] = {"rho_axis": info["rho_axis"]}
        for p in paths:
            strip = p.points[_strip_indices(len(p.points), n_strip)]
            decoded, dist, near_f, real = decode_strip(strip)
            out[p.name] = {
                "description": p.description,
                "plane": list(p.plane),
                "points": strip.tolist(),
                "nearest_factors": near_f,
                "nearest_distance": dist.tolist(),
                "realism": real.tolist(),
                "realism_mean": float(real.mean()),
                "max_gap": float(tree.query(p.points)[0].max()),
            }
            figures[f"path_{p.name}"] = trajectory_figure(latents, factors["rho"], "rho", p, decoded, near_f, real)
            captions[f"path_{p.name}"] = f"{p.description}. Realism: distance to the closest exact heatmap."
        anchors, perturbed = (
            geo.near_hull_perturbations(latents, 5, 4, 0.15, seed)
            if latents.shape[1] == 3
            else (latents[rng.choice(len(latents), 5)], latents[rng.choice(len(latents), 20)])
        )
        decoded, dist, near_f, real = decode_strip(perturbed[:n_strip])
        pert = geo.Path(
            "perturbations",
            perturbed[:n_strip],
            (0, 1),
            "random perturbations of points near the hull",
            connected=False,
        )
        figures["path_perturbations"] = trajectory_figure(
            latents, factors["rho"], "rho", pert, decoded, near_f, real, extra_points=anchors
        )
        captions["path_perturbations"] = "Gaussian perturbations (0.15 std) of the 5 codes closest to the hull (x)."
        all_real = realism_distance(_decode(model, perturbed), grid["low"], grid["high"], dfs)[0]
        out["perturbations"] = {
            "anchors": anchors.tolist(),
            "realism_mean": float(all_real.mean()),
            "nearest_distance": dist.tolist(),
        }
        figures["latent_3d"] = latent_3d(latents, factors, paths, f"{run.name}: latent space and decoded paths")
        captions["latent_3d"] = "Interactive: drag to rotate; the menu picks the colouring factor."
        return out

    metrics["trajectories"] = step("decoded trajectories", trajectories)

    def realism():
        rng = np.random.default_rng(seed)
        out = {"reconstructions": error_summary(realism_distance(test_recons, grid["low"], grid["high"], dfs)[0])}
        if len(empty_points):
            pick = empty_points[rng.choice(len(empty_points), min(500, len(empty_points)), replace=False)]
            out["empty_regions"] = error_summary(
                realism_distance(_decode(model, pick), grid["low"], grid["high"], dfs)[0]
            )
        if metrics["run"]["model"] == "VAE":
            prior = rng.normal(size=(1000, latents.shape[1]))
            out["prior_source"] = "N(0, I)"
        else:
            prior = rng.multivariate_normal(latents.mean(0), np.cov(latents.T), size=1000)
            out["prior_source"] = "Gaussian fitted to the codes (the AE has no prior)"
        out["prior_samples"] = error_summary(realism_distance(_decode(model, prior), grid["low"], grid["high"], dfs)[0])
        return out

    metrics["realism"] = step("decoded realism", realism)

    if student_t:
        metrics["df_classifier"] = step(
            "k-NN classifier of df",
            lambda: knn_classifier(latents[tr], factors["df"][tr], latents[te], factors["df"][te], seed=seed),
        )
    timings["total_s"] = time.perf_counter() - t0
    metrics["timing"] = timings
    return RunAnalysis(run.name, metrics, errors, figures, captions)
