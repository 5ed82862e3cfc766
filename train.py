"""Train a VAE or AE on a heatmap dataset: ``python train.py model=vae data=gaussian``."""

import hydra
from omegaconf import DictConfig

from heatmap_latent.training import train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = train(cfg)
    return metrics.get(cfg.get("optimized_metric")) if cfg.get("optimized_metric") else None


if __name__ == "__main__":
    main()
