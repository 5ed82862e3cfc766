"""Errors that train.py and analyze.py report as one clear line and a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from hydra.errors import MissingConfigException


class UserError(Exception):
    """A problem with the user's input or files (config value, checkpoint, run directory)."""


class NonFiniteLossError(UserError):
    """The training loss became NaN or inf."""


class TrainingInterrupted(UserError):
    """Training was stopped by a signal (SIGTERM) before it finished."""


class WriteError(UserError):
    """A file could not be written whole (a full disk, a read-only directory); ``path`` names it."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


# Hydra's messages carry advice lines meant for a terminal session, not for a one-line error
_ADVICE = ("Set the environment variable HYDRA_FULL_ERROR", "To append")


def one_line(err: BaseException | str) -> str:
    """An error as one line, e.g. "Could not find 'model/foo'; options: ae, vae".

    Hydra reports a missing config option with its options as a typed field
    (``MissingConfigException.options``), which is used as it is; its other messages span lines
    (the search path, advice), which are cut. An override that Hydra could not apply names its cause.
    """
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip() and not ln.strip().startswith(_ADVICE)]
    if "Config search path:" in lines:
        lines = lines[: lines.index("Config search path:")]
    options = getattr(err, "options", None) if isinstance(err, MissingConfigException) else None
    if options is not None:
        head = lines[: next((i for i, ln in enumerate(lines) if ln.startswith("Available options")), len(lines))]
        lines = [*head, f"options: {', '.join(o for o in options if not o.startswith('_'))}"]
    cause = getattr(err, "__cause__", None)
    if lines and lines[0].startswith(("Could not override", "Error merging override")) and cause is not None:
        lines = [lines[0].rstrip("."), str(cause).splitlines()[0]]
    return "; ".join(lines)


def report_user_errors(prog: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a :class:`UserError` becomes ``prog: error: ...`` on stderr and exit status 1 (``sys.exit``'s)."""
    try:
        return fn()
    except UserError as err:
        sys.exit(f"{prog}: error: {one_line(err)}")
