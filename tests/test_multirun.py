"""A real Hydra multirun of train.py in a subprocess: 4 jobs, 4 output directories."""

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import run_train


@pytest.mark.slow
def test_multirun_model_by_data_keeps_each_job_apart(tmp_path):
    sweep_dir = tmp_path / "sweep"
    run_train(
        "-m",
        "model=vae,ae",
        "data=gaussian,student_t",
        "trainer.max_epochs=1",
        "~callbacks.embedding_projector",
        f"hydra.sweep.dir={sweep_dir}",
    )
    jobs = sorted(p for p in sweep_dir.iterdir() if (p / ".hydra").is_dir())
    assert [p.name for p in jobs] == ["0", "1", "2", "3"]
    frozen = sorted(p.name for p in (sweep_dir / "frozen").iterdir())
    assert frozen == [*(f"job_{n}.yaml" for n in range(4)), "sweep.json"]
    seen = set()
    for job in jobs:
        overrides = (job / ".hydra" / "overrides.yaml").read_text()
        seen.add(tuple(line for line in overrides.splitlines() if "model=" in line or "data=" in line))
        acc = EventAccumulator(str(job / "tensorboard"))
        acc.Reload()
        assert len(acc.Scalars("val/loss")) == 1  # one epoch, written by this job alone
        assert (job / "checkpoints" / "last.ckpt").is_file()
    assert len(seen) == 4
