"""The time-to-quality bench on a tiny grid: its figures are computed from real runs."""

from __future__ import annotations

import pytest

from heatmap_latent.bench.time_to_quality import MODELS, time_to_quality
from tests.conftest import TINY_DATA


@pytest.mark.slow
def test_time_to_quality_reports_every_figure_from_real_runs(capsys):
    figures = time_to_quality(
        [*TINY_DATA, "trainer.max_epochs=3", "logger=none", "callbacks.early_stopping.patience=1"]
    )
    for model in MODELS:
        ref, fast = figures["runs"][f"{model}/default"], figures["runs"][f"{model}/fast"]
        assert ref["to_target_s"] is None and ref["epochs"] <= 3  # the default recipe sets E_ref
        if fast["to_target_s"] is not None:  # stopped at the validation epoch that reached E_ref
            assert fast["to_target_s"] <= fast["wall_s"] and fast["epochs"] == fast["reached_epoch"]
            assert fast["reached_error"] <= ref["test_error"]
        else:
            assert fast["reached_error"] is None
        assert figures["ttq_default_s"][model] == ref["wall_s"]
        assert figures["ttq_fast_s"][model] == (fast["to_target_s"] or fast["wall_s"])
        assert set(ref["epoch_split_s"]) == {"train_steps", "validation", "callbacks", "checkpoint_writes"}
        assert ref["epoch_split_s"]["train_steps"] > 0 and ref["epoch_split_s"]["checkpoint_writes"] > 0
    assert figures["ttq_speedup"] == pytest.approx(
        min(figures["ttq_default_s"][m] / figures["ttq_fast_s"][m] for m in MODELS)
    )
    ratio = max(
        (figures["runs"][f"{m}/fast"]["reached_error"] or figures["runs"][f"{m}/fast"]["test_error"])
        / figures["runs"][f"{m}/default"]["test_error"]
        for m in MODELS
    )
    assert figures["ttq_error_ratio"] == pytest.approx(ratio)
    printed = capsys.readouterr().out.splitlines()  # each run's line as it ends, before the summary
    assert [line.split()[0] for line in printed if line.startswith("  ") and " epochs" in line] == list(figures["runs"])


def test_reach_target_stops_at_the_first_epoch_at_or_below_the_target(make_cfg):
    from heatmap_latent.bench.time_to_quality import ReachTarget
    from heatmap_latent.training import train

    reach = ReachTarget(target=1e9)  # any error reaches it
    metrics = train(make_cfg("trainer.max_epochs=5", "logger=none"), extra_callbacks=[reach])
    assert reach.reached_epoch == 1 and metrics["epochs"] == 1 and reach.reached_s > 0
    assert reach.reached_error == pytest.approx(metrics["val/frobenius"])  # the error it stopped with
