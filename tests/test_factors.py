"""What a dataset declares about its factors, and the generic layers reading it."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate

from heatmap_latent.analysis.step import NA_KEY, Step, StepResult, SummaryRow
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind, declaration_of, infer_declaration


@pytest.mark.parametrize("data", ["gaussian", "student_t"])
def test_the_heatmaps_declare_exactly_the_factors_they_build_and_render_them(make_cfg, data):
    dm = instantiate(make_cfg(f"data={data}").data)
    dm.setup()
    declared = dm.declaration
    assert declared.names == tuple(dm.factors) == (("var_x", "var_y", "rho") + (("df",) if data == "student_t" else ()))
    for factor in declared.factors:
        assert np.allclose(factor.values, np.unique(dm.factors[factor.name]))  # the grid's values, each one taken
    assert declared.ordered == ("var_x", "var_y", "rho")  # df is categorical: no rank, no regression
    assert declared.of_kind(Kind.CATEGORICAL) == (("df",) if data == "student_t" else ())
    colours = declared.colour_by(dm.factors)
    assert list(colours) == [*declared.names, "var_x-var_y"]
    assert np.array_equal(colours["var_x-var_y"], dm.factors["var_x"] - dm.factors["var_y"])
    # the renderer draws the dataset's own images from its factors, pixel for pixel
    assert np.array_equal(declared.render(dm.factors), dm.images.numpy())
    assert declared.missing("render") is None
    assert declared.missing("invert") is None  # the heatmap fit (data/heatmap_fit.py)
    read = declared.invert(dm.images.numpy())
    for name in declared.names:  # exact wherever the density spans enough of this 12 px grid's pixels
        assert np.mean(np.abs(read[name] - dm.factors[name]) < 1e-3) >= 0.9, name


def test_a_declaration_refuses_repeated_or_clashing_names():
    with pytest.raises(ValueError, match="distinct names"):
        FactorDeclaration((Factor("x", (0.0, 1.0)), Factor("x", (2.0,))))
    with pytest.raises(ValueError, match="reuse factor names"):
        FactorDeclaration((Factor("x", (0.0, 1.0)),), colourings={"x": lambda f: f["x"]})
    with pytest.raises(KeyError, match="declares x"):
        FactorDeclaration((Factor("x", (0.0,)),))["y"]


def test_a_data_module_that_declares_nothing_gets_its_factors_continuous_and_no_capabilities():
    class Plain:
        factors = {"width": np.array([1.0, 2.0, 2.0]), "position": np.array([0.0, 5.0, 9.0])}

    declared = declaration_of(Plain())
    assert declared == infer_declaration(Plain.factors)
    assert declared.names == ("width", "position") and declared.ordered == declared.names
    assert declared["width"].values == (1.0, 2.0)
    assert list(declared.colour_by(Plain.factors)) == ["width", "position"]
    assert declared.missing("render") == "the dataset declares no renderer (factors -> image)"


def test_per_factor_summary_rows_follow_the_factors_the_step_computed():
    step = Step(
        "probe",
        "Probe",
        lambda encoded: StepResult({}),
        (SummaryRow("*.r2", "R^2 {}"), SummaryRow("n", "points")),
    )
    bar = {"probe": {"position": {"r2": 1.0}, "width": {"r2": 0.5}, "n": 3}}
    assert [(r.key, r.label) for r in step.rows(bar)] == [
        ("position.r2", "R^2 position"),
        ("width.r2", "R^2 width"),
        ("n", "points"),  # a number, not a factor's entry: no per-factor row for it
    ]
    heat = {"probe": {"var_x": {"r2": 0.9}, "rho": {"r2": 0.8}}}
    assert [r.key for r in step.rows(heat)] == ["var_x.r2", "rho.r2", "n"]
    assert [r.key for r in step.rows({"probe": {NA_KEY: "no factor"}})] == ["n"]
