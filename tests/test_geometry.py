"""Geometric routines on synthetic latents of known shape."""

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from heatmap_latent.analysis import geometry as geo
from heatmap_latent.study import geometry as study_geo


def cylinder(n=4000, radius=1.0, height=4.0, seed=0):
    """Points filling a solid cylinder along z (axis 2)."""
    rng = np.random.default_rng(seed)
    r = radius * np.sqrt(rng.uniform(size=n))
    a = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(a), r * np.sin(a), rng.uniform(0, height, n)], axis=1)


def test_tracking_axis_finds_the_axis_that_follows_a_factor():
    rng = np.random.default_rng(0)
    factor = rng.uniform(size=500)
    latents = rng.normal(size=(500, 3))
    latents[:, 1] = -3 * factor + 0.05 * rng.normal(size=500)  # negatively correlated still counts
    assert geo.tracking_axis(latents, factor) == 1


def test_principal_line_follows_the_main_direction_in_its_plane():
    rng = np.random.default_rng(1)
    t = rng.uniform(-5, 5, 2000)
    latents = np.stack([t, 0.1 * rng.normal(size=2000), t + 0.1 * rng.normal(size=2000)], axis=1)
    path = geo.principal_line(latents, (0, 2), 20)
    step = np.diff(path, axis=0)[0]
    assert abs(step[0]) == pytest.approx(abs(step[2]), rel=0.05) and step[1] == 0
    assert np.ptp(path[:, 0]) == pytest.approx(9.6, rel=0.05)  # the 2 %..98 % span of uniform(-5, 5)


def test_circle_lies_in_its_plane_around_the_centroid():
    latents = cylinder()
    path = geo.circle(latents, (0, 1), 50)
    centre = latents.mean(0)
    radii = np.linalg.norm(path[:, :2] - centre[:2], axis=1)
    assert np.allclose(radii, radii[0]) and radii[0] == pytest.approx(np.sqrt(0.5), rel=0.05)
    assert np.allclose(path[:, 2], centre[2]) and np.allclose(path[0], path[-1])


def test_hull_distance_is_zero_on_the_surface_and_positive_inside():
    cube = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=float)
    hull = ConvexHull(cube)
    d = geo.hull_distance(hull, np.array([[0.5, 0.5, 0.5], [0.0, 0.5, 0.5], [2.0, 0.5, 0.5]]))
    np.testing.assert_allclose(d, [0.5, 0.0, -1.0], atol=1e-12)


def test_bounding_planes_of_a_cylinder_are_its_flat_ends():
    latents = cylinder(radius=3.0, height=1.0)
    planes = geo.bounding_planes(latents, 2)
    normals = np.array([n for n, _ in planes])
    np.testing.assert_allclose(np.abs(normals[:, 2]), 1.0, atol=0.01)  # top and bottom discs
    assert normals[0] @ normals[1] < -0.99
    for normal, on_plane in planes:
        path = geo.path_on_plane(normal, on_plane, 10)
        assert np.ptp(path[:, 2]) < 0.05 and np.ptp(path[:, 0]) + np.ptp(path[:, 1]) > 3


def test_bounding_plane_of_a_cone_is_its_base():
    rng = np.random.default_rng(2)
    h = rng.uniform(0, 1, 5000) ** (1 / 3)  # height fraction, denser near the base at h = 1
    r, a = h * np.sqrt(rng.uniform(size=5000)), rng.uniform(0, 2 * np.pi, 5000)
    cone = np.stack([r * np.cos(a), r * np.sin(a), h * 0.5], axis=1)
    normal, on_plane = geo.bounding_planes(cone, 1)[0]
    assert normal[2] > 0.99 and len(on_plane) > 10 and np.all(on_plane[:, 2] > 0.47)


def test_near_hull_perturbations_start_on_the_surface():
    latents = cylinder()
    anchors, perturbed = geo.near_hull_perturbations(latents, 5, 4, 0.1, seed=0)
    assert perturbed.shape == (20, 3)
    assert np.all(np.abs(geo.hull_distance(ConvexHull(latents), anchors)) < 1e-9)
    assert np.all(np.linalg.norm(perturbed.reshape(5, 4, 3) - anchors[:, None], axis=-1) < 1.5)


def test_isovariance_spline_follows_the_rho_axis_through_the_strip():
    # codes = (rho, var_x - var_y, var_x + var_y): the strip var_x = var_y is the plane z1 = 0
    g = np.arange(0.1, 5, 0.4)
    rho, vx, vy = (a.ravel() for a in np.meshgrid(np.arange(-0.9, 0.9, 0.1), g, g, indexing="ij"))
    latents = np.stack([rho, vx - vy, vx + vy], axis=1)
    path, knots = study_geo.isovariance_spline(latents, vx, vy, rho, 30)
    assert path.shape == (30, 3)
    assert np.allclose(path[:, 1], 0, atol=1e-6)  # stays in the strip
    assert path[0, 0] < -0.75 and path[-1, 0] > 0.6  # from the first to the last bin of rho
    assert np.all(np.diff(path[:, 0]) > 0)


def collapsed_codes(seed=0):
    """Codes of a collapsed encoder, as the golden run has them: 200 codes 1e-3 wide around 0.05,
    a third of them one saturated code, and factors of a var_x = var_y strip for every code."""
    rng = np.random.default_rng(seed)
    rho = np.tile(np.linspace(-0.9, 0.9, 10), 20)
    var = np.repeat(np.arange(1.0, 5.0, 0.2), 10)
    latents = 0.05 + 1e-3 * rng.normal(size=(200, 3))
    latents[:, 2] = 0.05 + 1e-3 * rho + 1e-4 * rng.normal(size=200)  # the axis that tracks rho
    latents[::3] = latents[0]  # a saturated encoder: many images, one code
    return latents, var, var.copy(), rho


def test_the_isovariance_spline_of_collapsed_codes_moves_no_more_than_the_codes():
    latents, vx, vy, rho = collapsed_codes()
    path, knots = study_geo.isovariance_spline(latents, vx, vy, rho, 40)
    rng = np.random.default_rng(1)
    for eps in (1e-9, 1e-7):  # another CPU's rounding, and far more
        moved = latents * (1 + eps * rng.standard_normal(latents.shape))
        moved[::3] = moved[0]  # copies stay copies
        other, _ = study_geo.isovariance_spline(moved, vx, vy, rho, 40)
        # relative to the path's own extent, the path moves by about what the codes move (at the
        # codes' scale the cross-validated smoothing was ill-posed and moved the path by ~10%)
        assert np.abs(other - path).max() / np.ptp(path, axis=0).max() < 1e3 * eps


def test_near_hull_anchors_among_tied_hull_vertices_are_chosen_by_index_not_rounding():
    latents = cylinder(n=500)
    first, _ = geo.near_hull_perturbations(latents, 5, 2, 0.1, seed=0)
    hull = ConvexHull(latents)
    assert len(hull.vertices) > 5  # every vertex is at distance 0: a five-way choice among ties
    assert np.allclose(first, latents[np.sort(hull.vertices)[:5]])


def test_tails_and_line_between_them():
    latents = np.stack([np.linspace(-1, 1, 101), np.zeros(101)], axis=1)
    lo, hi = geo.tails(latents, latents[:, 0], share=0.05)
    assert lo[0] < -0.9 and hi[0] > 0.9
    path = geo.line(lo, hi, 5)
    np.testing.assert_allclose(path[2], (lo + hi) / 2)


def slab(n=5000, seed=0):
    """Codes between two known planes of the y-z projection, z = 1 + 0.5 y (top) and z = -1 + 0.2 y
    (bottom), with x free; stored as latent axes (z, -x, y) with factors that name them."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, n), rng.uniform(-2, 2, n)
    top, bottom = 1 + 0.5 * y, -1 + 0.2 * y
    z = bottom + (top - bottom) * rng.uniform(size=n)
    latents = np.stack([z, -x, y], axis=1)
    factors = {"rho": z, "var_x": x + y + 5, "var_y": -x + y + 5}  # var_x - var_y = 2x, var_x + var_y ~ y
    return latents, factors, (x, y, z)


def test_the_study_axes_are_named_and_signed_by_what_they_track():
    latents, f, (x, y, z) = slab()
    axes = study_geo.study_axes(latents, f["var_x"], f["var_y"], f["rho"])
    assert (axes.x, axes.y, axes.z) == (1, 2, 0) and axes.signs == (-1.0, 1.0, 1.0)
    assert np.allclose(axes.oriented(latents), np.stack([x, y, z], axis=1))
    assert np.allclose(axes.to_latent(axes.oriented(latents), latents.mean(0)), latents)  # and back
    with pytest.raises(ValueError, match="3-D"):
        study_geo.study_axes(latents[:, :2], f["var_x"], f["var_y"], f["rho"])


def test_the_study_planes_are_the_known_bounds_of_the_projection():
    latents, f, _ = slab()
    axes = study_geo.study_axes(latents, f["var_x"], f["var_y"], f["rho"])
    xyz = axes.oriented(latents)
    bounds = geo.projection_bounds(xyz[:, 1], xyz[:, 2], quantile=0.01)
    assert bounds["top"] == pytest.approx((1.0, 0.5), abs=0.05)
    assert bounds["bottom"] == pytest.approx((-1.0, 0.2), abs=0.05)
    for side in ("top", "bottom"):
        a, b = bounds[side]
        path = geo.path_along_bound(xyz, bounds[side], 20)
        assert np.allclose(path[:, 2], a + b * path[:, 1])  # on the plane
        assert np.ptp(path[:, 0]) == 0 and abs(path[0, 0]) < 0.1  # at constant x (the codes' median, ~0)
        assert path[0, 1] < -1.8 and path[-1, 1] > 1.8  # along y, over the codes near the plane
    with pytest.raises(ValueError, match="fewer than two codes"):
        geo.path_along_bound(xyz, (50.0, 0.0), 20)


def test_cka_and_procrustes_see_through_rotation_and_scale_but_not_independence():
    from heatmap_latent.analysis.similarity import linear_cka, procrustes_disparity

    rng = np.random.default_rng(0)
    codes = rng.normal(size=(3000, 3)) * [3.0, 1.0, 0.5]
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]  # orthogonal, possibly a reflection
    moved = 2.5 * codes @ rotation + 4.0
    assert linear_cka(codes, moved) == pytest.approx(1.0) and procrustes_disparity(codes, moved) < 1e-12
    other = rng.normal(size=(3000, 3))
    assert linear_cka(codes, other) < 0.01 and procrustes_disparity(codes, other) > 0.95
    # partly related: in between, and CKA of independent codes is near 0 but never negative
    half = codes + 2.0 * rng.normal(size=codes.shape)
    assert 0.2 < linear_cka(codes, half) < 0.9 and 0.05 < procrustes_disparity(codes, half) < 0.8
    with pytest.raises(ValueError, match="one shape"):
        procrustes_disparity(codes, codes[:, :2])


def test_a_path_on_a_bounding_plane_can_hold_a_factor_fixed():
    """The study's "var_x stays fixed along the top plane": along y at constant x a factor that grows
    with x + y moves; the path that holds it moves x against y and keeps it exactly (a linear factor)."""
    from heatmap_latent.analysis.geometry import path_along_bound, path_along_bound_holding

    rng = np.random.default_rng(0)
    xy = rng.uniform(-1, 1, size=(4000, 2))
    xyz = np.column_stack([xy, 1.0 + 0.5 * xy[:, 1]])  # every code on the plane z = 1 + 0.5 y
    factor = 2.0 * xyz[:, 0] + xyz[:, 1]
    held = path_along_bound_holding(xyz, (1.0, 0.5), factor, 20)
    along_y = path_along_bound(xyz, (1.0, 0.5), 20)
    value = lambda p: 2.0 * p[:, 0] + p[:, 1]  # noqa: E731
    assert np.ptp(value(held)) < 1e-9 and np.ptp(value(along_y)) > 1.5
    np.testing.assert_allclose(held[:, 2], 1.0 + 0.5 * held[:, 1])  # on the plane
    assert np.all(np.diff(held[:, 1]) > 0) and np.ptp(held[:, 1]) > 0.5  # it goes somewhere, along growing y
