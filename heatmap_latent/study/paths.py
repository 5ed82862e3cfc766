"""The study's decoded trajectories through a latent space, every choice derived from the data."""

from __future__ import annotations

from typing import Any

import numpy as np

from heatmap_latent.analysis import geometry as geo
from heatmap_latent.study import geometry as study_geo


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
    spline, knots = study_geo.isovariance_spline(latents, factors["var_x"], factors["var_y"], factors["rho"], n)
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
    if dim == 3:
        try:
            paths += _study_plane_paths(latents, factors, n, info)
        except ValueError as err:  # e.g. too few codes near a bound: those paths do not apply
            info["study_planes_missing"] = str(err)
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


def _study_plane_paths(latents: np.ndarray, factors: dict[str, np.ndarray], n: int, info: dict) -> list[geo.Path]:
    """The study's reading of claim 6: the planes bounding the codes' y-z projection from above and
    from below, at constant x, each traversed along y (``../shared/SPEC.md``)."""
    axes = study_geo.study_axes(latents, factors["var_x"], factors["var_y"], factors["rho"])
    xyz = axes.oriented(latents)
    bounds = geo.projection_bounds(xyz[:, 1], xyz[:, 2])
    info["study_axes"] = {"x": axes.x, "y": axes.y, "z": axes.z, "signs": list(axes.signs)}
    info["study_bounds"] = {k: {"intercept": a, "slope": b} for k, (a, b) in bounds.items()}
    plane = tuple(sorted((axes.y, axes.z)))
    paths = _axis_lines(latents, axes, xyz, n)
    # the study's "var_x stays fixed along the top plane", on a path that holds it (along y at
    # constant x both variances grow: x tracks their difference, y their sum)
    held = geo.path_along_bound_holding(xyz, bounds["top"], factors["var_x"], n)
    paths.append(
        geo.Path(
            "study_plane_top_var_x",
            axes.to_latent(held, latents.mean(0)),
            tuple(sorted((axes.x, axes.y))),  # type: ignore[arg-type]
            f"the study's top plane, along the direction of the z{axes.x}-z{axes.y} plane that holds var_x",
        )
    )
    for side, where in (("top", "above"), ("bottom", "below")):
        points = axes.to_latent(geo.path_along_bound(xyz, bounds[side], n), latents.mean(0))
        paths.append(
            geo.Path(
                f"study_plane_{side}",
                points,
                plane,  # type: ignore[arg-type]
                f"the study's {side} plane: bounds the z{axes.z}-z{axes.y} projection from {where} "
                f"(quantile regression), along z{axes.y} at constant z{axes.x}",
            )
        )
    return paths


def _axis_lines(latents: np.ndarray, axes: study_geo.StudyAxes, xyz: np.ndarray, n: int) -> list[geo.Path]:
    """Straight lines along the study's named axes through the codes' median, each over the central
    96% of the codes along it: z (tracks rho) and x (tracks var_x − var_y), the study's "lines"."""
    paths = []
    centre = np.median(xyz, axis=0)
    for name, k, axis, what in (("axis_rho", 2, axes.z, "rho"), ("axis_var_diff", 0, axes.x, "var_x − var_y")):
        lo, hi = np.quantile(xyz[:, k], [0.02, 0.98])
        start, end = centre.copy(), centre.copy()
        start[k], end[k] = lo, hi
        points = axes.to_latent(geo.line(start, end, n), latents.mean(0))
        other = axes.y if k == 2 else axes.z
        paths.append(
            geo.Path(
                name,
                points,
                tuple(sorted((axis, other))),
                f"line along z{axis} (tracks {what}) through the median code",
            )
        )
    return paths


def explorer_paths(latents: np.ndarray, factors: dict[str, np.ndarray], n: int = 40) -> dict[str, list]:
    """The study's connected paths as the explorer's path picker lists them (raw codes of the
    checkpoint); none where the study's paths do not apply (no rho factor, a 1-D latent space)."""
    if "rho" not in factors or latents.shape[1] < 2:
        return {}
    return {p.name: p.points.tolist() for p in study_paths(latents, factors, n)[0] if p.connected}
