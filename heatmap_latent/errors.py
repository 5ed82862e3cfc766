"""Errors that train.py and analyze.py report as one clear line and a non-zero exit."""


class UserError(Exception):
    """A problem with the user's input or files (config value, checkpoint, run directory)."""


class NonFiniteLossError(UserError):
    """The training loss became NaN or inf."""


class TrainingInterrupted(UserError):
    """Training was stopped by a signal (SIGTERM) before it finished."""
