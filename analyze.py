"""Explore a trained latent space: ``python analyze.py run=PATH`` or ``compare=[A,B]``."""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from heatmap_latent.analyze import analyze
from heatmap_latent.core.errors import report_user_errors
from heatmap_latent.training.preflight import check_overrides


@hydra.main(version_base="1.3", config_path="conf", config_name="analyze")
def main(cfg: DictConfig) -> None:
    out = Path(cfg.output_dir)
    try:
        report_user_errors("analyze.py", lambda: analyze(cfg))
    except BaseException:
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # Hydra made it for this run; leave no empty output behind
        raise


if __name__ == "__main__":
    sys.argv[1:] = check_overrides("analyze", sys.argv[1:], "analyze.py")  # old keys renamed (core/legacy.py)
    main()
