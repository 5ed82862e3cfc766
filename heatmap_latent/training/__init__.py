"""Training: ``train(cfg)``, the checks before a run, job records, the callbacks.

Importing this package registers the config schemas (``schema.py``) and the resolvers
(``resolvers.py``) that composing ``conf/train.yaml`` needs. It is done here, once, rather than in
an entry point because Hydra's launchers compose and resolve job configs in worker processes that
import this package but run no entry-point code.
"""

from heatmap_latent.training.resolvers import register_resolvers
from heatmap_latent.training.run import build, instantiate_named, run_hparams, train
from heatmap_latent.training.schema import register_schemas

register_schemas()
register_resolvers()

__all__ = ["build", "instantiate_named", "register_resolvers", "register_schemas", "run_hparams", "train"]
