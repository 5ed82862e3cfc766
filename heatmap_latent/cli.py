"""Entry-point helpers: check the command line against the configs before Hydra runs the job,
and report user errors as one line with a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from heatmap_latent.errors import UserError

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
NO_CHECK_FLAGS = (
    "-m",
    "--multirun",
    "-h",
    "--help",
    "--hydra-help",
    "-c",
    "--cfg",
    "--info",
    "--version",
    "--shell-completion",
    "-cp",
    "--config-path",
    "-cn",
    "--config-name",
    "-cd",
    "--config-dir",
)


def one_line(err: BaseException | str) -> str:
    """Hydra's multi-line messages as one line, e.g. "Could not find 'model/foo'; options: ae, vae"."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("Set the environment variable HYDRA_FULL_ERROR", "To append"))]
    if "Config search path:" in lines:
        lines = lines[: lines.index("Config search path:")]
    if any(ln.startswith("Available options") for ln in lines):
        k = next(i for i, ln in enumerate(lines) if ln.startswith("Available options"))
        options = [opt for opt in lines[k + 1 :] if not opt.startswith("_")]
        lines = [*lines[:k], f"options: {', '.join(options)}"]
    cause = getattr(err, "__cause__", None)
    if lines and lines[0].startswith("Could not override") and cause is not None:
        lines = [lines[0].rstrip("."), str(cause).splitlines()[0]]
    return "; ".join(lines)


def check_overrides(config_name: str, argv: list[str], prog: str) -> None:
    """Compose the config as Hydra will; exit with one line if an override is unknown or malformed.

    Multirun and help invocations are left to Hydra.
    """
    if any(arg in NO_CHECK_FLAGS or arg.split("=")[0] in NO_CHECK_FLAGS for arg in argv):
        return
    if not CONF_DIR.is_dir():
        return
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            compose(config_name, overrides=list(argv))
    except (HydraException, OmegaConfBaseException, ValueError) as err:
        sys.exit(f"{prog}: error: {one_line(err)}")


def report_user_errors(prog: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a :class:`UserError` becomes ``prog: error: ...`` on stderr and exit status 2."""
    try:
        return fn()
    except UserError as err:
        sys.exit(f"{prog}: error: {one_line(err)}")
