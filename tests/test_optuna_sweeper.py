"""The Optuna sweeper's parts (hydra_plugins/heatmap_latent_sweeper/optuna_sweeper.py); its real
searches are in tests/test_sweeps.py."""

import socket
import subprocess
import sys

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from heatmap_latent.sweeps.optuna_study import open_storage, storage_spec
from hydra_plugins.heatmap_latent_sweeper.optuna_sweeper import OptunaSweeper, distribution


def parsed(line):
    return distribution(OverridesParser.create().parse_override(line))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a=tag(log, interval(1e-4, 1e-2))", FloatDistribution(1e-4, 1e-2, log=True)),
        ("a=interval(0.1, 0.9)", FloatDistribution(0.1, 0.9)),
        ("a=interval(1, 8)", FloatDistribution(1.0, 8.0)),  # Hydra's interval is real; integers: range
        ("a=range(2, 10, 2)", IntDistribution(2, 8, step=2)),  # Hydra's stop excluded, Optuna's high included
        ("a=choice(32, 64, 128)", CategoricalDistribution([32, 64, 128])),
        ("a=choice([64], [128])", CategoricalDistribution(["[64]", "[128]"])),  # lists as their override text
        ("a=choice(vae, ae)", CategoricalDistribution(["vae", "ae"])),
        ("a=1,2", CategoricalDistribution([1, 2])),
    ],
)
def test_the_search_space_syntax_becomes_optuna_distributions(line, expected):
    assert parsed(line) == expected


def test_the_study_is_a_journal_file_in_the_sweep_dir_unless_told_otherwise(tmp_path):
    assert storage_spec(None, tmp_path) == str(tmp_path / "optuna.journal")
    assert storage_spec("sqlite:///x.db", tmp_path) == "sqlite:///x.db"
    journal = optuna.create_study(study_name="s", storage=open_storage(storage_spec(None, tmp_path)))
    journal.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert (tmp_path / "optuna.journal").stat().st_size > 0
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    rdb = optuna.create_study(study_name="s", storage=open_storage(url))
    rdb.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert len(optuna.load_study(study_name="s", storage=open_storage(url)).trials) == 1


def test_a_trial_left_running_by_a_dead_worker_is_failed_and_asked_again(tmp_path):
    study = optuna.create_study(study_name="s", storage=open_storage(str(tmp_path / "j")))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    trial = study.ask({"x": FloatDistribution(0, 1)})
    trial.set_user_attr("worker", f"{socket.gethostname()}:{int(dead.stdout)}")
    alive = study.ask({"x": FloatDistribution(0, 1)})
    alive.set_user_attr("worker", f"{socket.gethostname()}:1")  # init: alive
    OptunaSweeper()._retry_abandoned(study)
    states = [t.state.name for t in study.get_trials()]
    assert states == ["FAIL", "RUNNING", "WAITING"]
    again = study.ask({"x": FloatDistribution(0, 1)})  # the next ask, by any worker, runs those values
    assert again.params == trial.params and again.user_attrs["retry_of"] == 0


def test_workers_share_the_cpus_out_unless_the_user_chose_threads(monkeypatch):
    import os

    from hydra_plugins.heatmap_latent_sweeper.optuna_sweeper import threads_per_worker

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert [threads_per_worker(n) for n in (1, 2, 3, 8, 16)] == [None, 4, 2, 1, 1]
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads_per_worker(2) is None
