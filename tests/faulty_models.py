"""Models that fail on purpose, importable by train.py subprocesses (``model._target_=...``)."""

from heatmap_latent.models import AE


class NaNAfterAE(AE):
    """An AE whose loss turns NaN at global step 7."""

    def loss_terms(self, x):
        terms = super().loss_terms(x)
        if self.trainer is not None and self.trainer.global_step >= 7:
            terms["loss"] = terms["loss"] * float("nan")
        return terms


class FirstOneFailsAE(NaNAfterAE):
    """NaN loss in the first fit of this process only (sweep jobs of the basic launcher share the
    process): the first job of a sweep fails, the others train normally."""

    fits = 0

    def on_fit_start(self):
        type(self).fits += 1
        self.fails = type(self).fits == 1

    def loss_terms(self, x):
        return super().loss_terms(x) if self.fails else AE.loss_terms(self, x)
