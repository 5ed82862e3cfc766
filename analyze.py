"""Explore a trained latent space: ``python analyze.py run=PATH`` or ``compare=[A,B]``."""

import sys

import hydra
from omegaconf import DictConfig

from heatmap_latent.analysis import RunLoadError, analyze


@hydra.main(version_base="1.3", config_path="conf", config_name="analyze")
def main(cfg: DictConfig) -> None:
    try:
        analyze(cfg)
    except RunLoadError as err:
        sys.exit(f"analyze.py: error: {err}")


if __name__ == "__main__":
    main()
