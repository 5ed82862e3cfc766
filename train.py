"""Train a VAE or AE on a heatmap dataset: ``python train.py model=vae data=gaussian``."""

import sys

import hydra
from omegaconf import DictConfig

from heatmap_latent.sweeps.records import run_job
from heatmap_latent.training import train
from heatmap_latent.training.preflight import preflight


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = run_job("train.py", cfg, train)
    wanted = cfg.get("optimized_metric")
    if isinstance(wanted, str):
        return metrics.get(wanted)
    return [metrics.get(k) for k in wanted] if wanted else None  # a list: a multi-objective search


if __name__ == "__main__":
    # every job of the run or sweep is composed and checked before the first one starts
    sys.argv[1:] = preflight("train", sys.argv[1:], "train.py")
    main()
