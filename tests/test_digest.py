"""The freeze (issue: frozen, auditable, confirmed): every constant that decides a verdict lives in
``conf/analyze.yaml`` (``claims``, ``instruments``), one digest covers those values and the verdict
modules' code, and the digest committed for the confirmatory run is today's."""

from __future__ import annotations

import copy
import pkgutil
import re

import pytest
from omegaconf import OmegaConf

from heatmap_latent.analysis.instruments import configured, instrument
from heatmap_latent.core.conf import CONF_DIR
from heatmap_latent.study import digest as D
from tests.conftest import ROOT

CFG = OmegaConf.load(CONF_DIR / "analyze.yaml")


def _leaves(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*prefix, k))
    else:
        yield prefix, node


def _moved(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value * 2 + 1
    return f"{value}!"


def test_every_value_of_the_verdict_sections_moves_the_digest():
    today = D.verdict_digest(CFG)["digest"]
    raw = OmegaConf.to_container(CFG)
    seen = 0
    for section in D.VERDICT_SECTIONS:
        for path, value in _leaves(raw[section], (section,)):
            edited = copy.deepcopy(raw)
            node = edited
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = _moved(value)
            assert D.verdict_digest(OmegaConf.create(edited))["digest"] != today, ".".join(path)
            seen += 1
    assert seen > 60  # every threshold, minimum effect (value, unit, why) and instrument constant
    # a section that decides nothing (the figures, the scores) leaves it
    assert D.verdict_digest(OmegaConf.merge(CFG, {"figures": False, "n_strip": 5}))["digest"] == today


def test_the_code_of_a_verdict_module_moves_the_digest_and_its_comments_do_not():
    module = "heatmap_latent.study.verdicts"
    source = D._source(module)
    today = D.code_digest()
    assert D.code_digest(sources={module: source.replace("TIE_SHARE = 1e-9", "TIE_SHARE = 1e-8")}) != today
    assert D.code_digest(sources={module: source + "\nx = 1\n"}) != today
    commented = source.replace("TIE_SHARE = 1e-9", "TIE_SHARE = 1e-9  # a new comment") + "\n# more\n"
    redocumented = re.sub(r'^"""', '"""Another first line.\n\n', source, count=1)
    reformatted = source.replace("TIE_SHARE = 1e-9", "TIE_SHARE = (\n    1e-9\n)")
    for same in (commented, redocumented, reformatted):
        assert same != source and D.code_digest(sources={module: same}) == today


def test_every_module_of_the_analysis_and_the_study_is_declared_verdict_or_not():
    found = {
        f"{pkg}.{m.name}"
        for pkg in ("heatmap_latent.analysis", "heatmap_latent.study")
        for m in pkgutil.iter_modules([str(ROOT / "heatmap_latent" / pkg.split(".")[1])])
    }
    declared = set(D.VERDICT_MODULES) | set(D.NOT_VERDICT)
    assert found - declared == set(), "a new module: add it to VERDICT_MODULES or NOT_VERDICT"
    assert not set(D.VERDICT_MODULES) & set(D.NOT_VERDICT)
    for module in D.VERDICT_MODULES:
        assert D._source(module)  # each one exists


def test_the_digest_committed_for_the_confirmatory_run_is_todays():
    """A threshold, an instrument constant or verdict code that moved without the frozen digest
    moving with it fails here; moving it on purpose means a new freeze, named in the docs."""
    today = D.verdict_digest(CFG)
    assert today["digest"] == D.FROZEN and today["is_frozen"], D.said(today)
    assert D.FROZEN in (ROOT / "docs" / "analysis.md").read_text()


def test_the_instruments_are_read_from_the_config_only():
    section = configured()
    assert section == OmegaConf.to_container(CFG.instruments)
    source = "\n".join(p.read_text() for p in (ROOT / "heatmap_latent").rglob("*.py") if "instruments.py" not in p.name)
    for name in section:  # each constant is read by its name somewhere ...
        assert f'instrument("{name}"' in source, name
    # ... and none is a module constant of its own any more
    for old in ("TRIMMED_HULL =", "TORN =", "TAIL_QUANTILE =", "KINK_STEP =", "KINK_SAMPLE ="):
        assert old not in source
    assert instrument("torn", 5.0) == 5.0 and instrument("torn", given={"torn": 4.0}) == 4.0
    assert instrument("torn") == CFG.instruments.torn
    with pytest.raises(KeyError, match="instruments.nothing"):
        instrument("nothing")


def test_an_analysis_reads_its_own_instruments_section():
    """``analyze.py instruments.<key>=...`` reaches the measures through ``EncodedRun.instruments``."""
    from heatmap_latent.analysis.encoded import EncodedRun
    from heatmap_latent.analysis.loading import load_run
    from tests.golden import GOLDEN_RUN

    run = load_run(GOLDEN_RUN)
    default = EncodedRun.encode(run).density.figures
    mine = EncodedRun.encode(run, instruments={**configured(), "far_factor": 1e6}).density.figures
    assert default["empty_threshold"] > 0 and mine["empty_threshold"] == pytest.approx(
        default["empty_threshold"] / CFG.instruments.far_factor * 1e6
    )
    assert mine["empty_share"] == 0 < default["empty_share"]
