"""Every combination of options composes, passes the preflight and trains, or names its conflict.

The options: each recipe, callbacks, logger, trainer (those that run on a CPU) and debug config.
Their full product is 216 jobs; the cases below cover every pair of choices (a pairwise covering
array, built greedily from the product), so a conflict between any two options shows.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from heatmap_latent.training import train
from heatmap_latent.training.preflight import preflight
from tests.conftest import CONF_DIR, TINY_DATA, compose_train


def _names(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("[!_]*.yaml"))


OPTIONS = {
    "recipe": _names("recipe"),
    "callbacks": _names("callbacks"),
    "logger": _names("logger"),
    "trainer": [t for t in _names("trainer") if t not in ("gpu", "ddp")],  # a CPU here
    "debug": ["null", *_names("debug")],
}


def pairwise(options: dict[str, list[str]]) -> list[tuple[str, ...]]:
    """A small set of the product's cases that holds every pair of values of any two options
    (greedy: take the case that covers most uncovered pairs until none is left). Written here: the
    covering-array packages (allpairspy) are not among the project's dependencies for 15 lines."""
    keys = list(options)
    product = list(itertools.product(*options.values()))

    def pairs(case: tuple[str, ...]) -> set[tuple[int, str, int, str]]:
        return {(i, case[i], j, case[j]) for i, j in itertools.combinations(range(len(keys)), 2)}

    uncovered = set().union(*(pairs(c) for c in product))
    chosen = []
    while uncovered:
        best = max(product, key=lambda c: len(pairs(c) & uncovered))
        chosen.append(best)
        uncovered -= pairs(best)
    return chosen


CASES = pairwise(OPTIONS)


def overrides(case: tuple[str, ...]) -> list[str]:
    """The case's command line; ``debug`` null is the default (no override names it)."""
    return [f"{key}={value}" for key, value in zip(OPTIONS, case) if value != "null"]


def conflict(case: tuple[str, ...]) -> str | None:
    """The one conflict among these options: recipe=fast sets callbacks.early_stopping.patience,
    which callbacks=none has no callback for (debug=overfit turns early stopping off: no conflict)."""
    choice = dict(zip(OPTIONS, case))
    if choice["recipe"] == "fast" and choice["callbacks"] == "none" and choice["debug"] != "overfit":
        return "callbacks.early_stopping has no _target_"
    return None


def test_the_cases_cover_every_pair_of_options_in_far_fewer_jobs_than_the_product():
    assert len(CASES) < 30 < 216 == len(list(itertools.product(*OPTIONS.values())))
    for (i, a), (j, b) in itertools.combinations(enumerate(OPTIONS), 2):
        for va, vb in itertools.product(OPTIONS[a], OPTIONS[b]):
            assert any(c[i] == va and c[j] == vb for c in CASES), (a, va, b, vb)


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_each_combination_passes_the_preflight_or_names_its_conflict_in_one_line(case, tmp_path):
    argv = [*TINY_DATA, *overrides(case), f"hydra.run.dir={tmp_path}", f"paths.log_dir={tmp_path}"]
    expected = conflict(case)
    if expected is None:
        assert preflight("train", argv, "train.py") == argv
        return
    with pytest.raises(SystemExit) as exit_:
        preflight("train", argv, "train.py")
    message = str(exit_.value.code)
    assert message.startswith("train.py: error: ") and expected in message and "\n" not in message
    assert "~callbacks.early_stopping" in message  # and says how to resolve it
    # the way out it names works
    assert preflight("train", [*argv, "~callbacks.early_stopping"], "train.py")


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_each_combination_trains_one_batch(case, tmp_path):
    fix = ["~callbacks.early_stopping"] if conflict(case) else []
    one_batch = ["trainer.max_epochs=1", "+trainer.limit_train_batches=1", "+trainer.limit_val_batches=1"]
    cfg = compose_train(tmp_path, *overrides(case), *fix, *one_batch, "test=false")
    metrics = train(cfg)
    assert metrics["steps"] == 1.0
    if dict(zip(OPTIONS, case))["debug"] == "null":  # fast_dev_run writes no record
        record = json.loads((Path(tmp_path) / "job.json").read_text())
        assert record["status"] == "completed" and record["precision"]["precision"] == str(cfg.trainer.precision)


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("+callbacks.my_callback.every_n_epochs=3", "callbacks.my_callback has no _target_"),
        ("+logger.tensorboard.name=x", "logger.tensorboard has no _target_"),
    ],
)
def test_an_entry_without_a_target_is_refused_by_the_preflight_in_one_line(override, named, tmp_path):
    argv = [*TINY_DATA, "logger=none", override, f"hydra.run.dir={tmp_path}"]
    with pytest.raises(SystemExit) as exit_:
        preflight("train", argv, "train.py")
    message = str(exit_.value.code)
    assert message.startswith("train.py: error: ") and named in message and "\n" not in message
