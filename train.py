"""Train a VAE or AE on a heatmap dataset: ``python train.py model=vae data=gaussian``."""

import sys

import hydra
from omegaconf import DictConfig

from heatmap_latent.cli import check_overrides, report_user_errors
from heatmap_latent.training import train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = report_user_errors("train.py", lambda: train(cfg))
    return metrics.get(cfg.get("optimized_metric")) if cfg.get("optimized_metric") else None


if __name__ == "__main__":
    check_overrides("train", sys.argv[1:], "train.py")
    main()
