"""Which runs the heatmap study is about: chosen by what a run is (its data module's declared
``name``), never by a config file's name, as the Latent tab finds its plug-ins by their declaration.

An analysis whose runs include none of these datasets has no word of the study: no claims, no study
steps, no study paths in the explorer.
"""

from __future__ import annotations

from collections.abc import Iterable

# the heatmaps' data modules (data/datamodule.py: GaussianHeatmapDataModule.name, StudentTHeatmapDataModule.name)
DATASETS = ("gaussian", "student_t")
# how a verdict is reached: both models, on both datasets, over seeds (README, "Sweep")
COMMANDS = (
    "python train.py -m experiment=study seed=1,2,3",
    "python analyze.py study=logs/multiruns/<that sweep>",
)


def applies(datasets: Iterable[str]) -> bool:
    """Whether the study applies to an analysis of runs of these datasets (declared names)."""
    return any(name in DATASETS for name in datasets)


def what_a_verdict_needs(min_seeds: int) -> str:
    """One sentence: what an analysis must hold for the claims to reach a verdict."""
    return (
        f"A verdict compares the VAE with the AE over seeds: both models on {' and '.join(DATASETS)} "
        f"(claim 7 reads student_t, the others gaussian first), each with at least {min_seeds} seeds, "
        f"in one analysis."
    )
