"""Sweeps that survive: every job's config frozen before the first starts (``frozen.py``), one process
per job directory (``lock.py``), each job's outcome in ``job.json`` and the sweep's summary
(``records.py``), the config hash that says a job is done (``config_hash.py``) and the Optuna study
its workers share (``optuna_study.py``). ``hydra_plugins/`` (the sweepers) and the training run call
these; they know nothing of models, data or Lightning."""
