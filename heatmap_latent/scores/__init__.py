"""The field's disentanglement scores as pure numpy/sklearn functions of codes and factors.

A layer of their own (``pyproject.toml``'s import-linter layers), so that training (the scores a
snapshot writes as the latent space forms: ``scores/timeline.py``) and analysis (the scores of the
best checkpoint) compute them with the same code.
"""
