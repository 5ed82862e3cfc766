"""The recipe chosen on validation error only (``python -m heatmap_latent.bench --recipe-choice``)."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from heatmap_latent.bench.recipe_choice import RunError, choose
from heatmap_latent.core.errors import UserError
from tests.conftest import ROOT, run_train


def runs(recipe, errors, seeds=(1, 2, 3)):
    return [RunError(f"{recipe}/{s}", recipe, s, e, 0, None, None, None) for s, e in zip(seeds, errors)]


def test_the_preferred_recipe_is_kept_unless_another_is_lower_by_more_than_the_tolerance():
    tie = choose(
        {"default": runs("default", [0.210, 0.212, 0.214]), "fast": runs("fast", [0.214, 0.216, 0.218])}, "fast"
    )
    assert (tie["lowest"], tie["chosen"]) == ("default", "fast")  # 0.004 worse: within 0.005
    assert tie["recipes"]["fast"]["val_mean"] == pytest.approx(0.216)
    worse = choose({"default": runs("default", [0.20, 0.20, 0.20]), "fast": runs("fast", [0.21, 0.21, 0.21])}, "fast")
    assert worse["chosen"] == "default"
    better = choose({"default": runs("default", [0.22, 0.22, 0.22]), "fast": runs("fast", [0.20, 0.21, 0.21])}, "fast")
    assert better["chosen"] == "fast"


def test_recipes_trained_on_different_seeds_or_a_preference_not_compared_are_refused():
    with pytest.raises(UserError, match="same seeds"):
        choose({"default": runs("default", [0.2, 0.2]), "fast": runs("fast", [0.2, 0.2], seeds=(4, 5))}, "fast")
    with pytest.raises(UserError, match="none of the recipes"):
        choose({"default": runs("default", [0.2]), "fast": runs("fast", [0.2])}, "slow")


@pytest.mark.slow
def test_a_real_sweep_of_two_recipes_is_scored_at_each_runs_best_checkpoint(tmp_path):
    sweep = tmp_path / "sweep"
    run_train("-m", "seed=1", "recipe=default,fast", "trainer.max_epochs=3", f"hydra.sweep.dir={sweep}")
    out = tmp_path / "choice.json"
    bench = [sys.executable, "-m", "heatmap_latent.bench", "--recipe-choice", str(sweep), "--json", str(out)]
    done = subprocess.run(bench, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert set(result["recipes"]) == {"default", "fast"}
    assert result["chosen"] in done.stdout.splitlines()[-1]
    for name, figures in result["recipes"].items():
        assert figures["seeds"] == [1]
        for seed, val_error in zip(figures["seeds"], figures["val_error"]):
            job = next(
                j
                for j in sweep.iterdir()
                if (j / "job.json").is_file()
                and {f"seed={seed}", f"recipe={name}"} <= set(json.loads((j / "job.json").read_text())["overrides"])
            )
            # the epoch of the checkpoint the test scored, by its file name, against the event files
            (best,) = (job / "checkpoints").glob("epoch_*.ckpt")
            epoch = int(re.fullmatch(r"epoch_(\d+)\.ckpt", best.name).group(1))
            events = EventAccumulator(str(job / "tensorboard"), size_guidance={"scalars": 0})
            events.Reload()
            step = next(e.step for e in events.Scalars("epoch") if int(e.value) == epoch)
            at_best = {e.step: e.value for e in events.Scalars("val/frobenius")}
            assert val_error == pytest.approx(at_best[step], rel=1e-6)

    # a job without event files (logger=none) is refused in one line that names what is missing
    bare = tmp_path / "bare"
    shutil.copytree(sweep, bare)
    shutil.rmtree(bare / "0" / "tensorboard")
    done = subprocess.run([*bench[:4], str(bare)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no val/loss, val/frobenius in the TensorBoard events" in done.stderr
