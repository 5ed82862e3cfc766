"""The VAE family on the shared backbone: each model is the VAE with another regulariser.

Only :meth:`VAE.regulariser` (what is added to the reconstruction) differs, and FactorVAE's
discriminator with its own optimizer. The code of every model is the posterior mean, as for the VAE.
``beta_vae`` is the VAE with ``beta = 4`` (``conf/model/beta_vae.yaml``), no class of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from heatmap_latent.core import checks
from heatmap_latent.models.autoencoder import VAE
from heatmap_latent.models.losses import MMD_KERNELS, mmd, permute_dims, tc_decomposition

TC_ESTIMATORS = ("mss", "mws")


class TCVAE(VAE):
    """beta-TCVAE (Chen et al. 2018): recon + alpha * MI + beta * TC + gamma * dimension-wise KL.

    The three terms are estimated on the minibatch (``tc_decomposition``) with minibatch-stratified
    sampling by default (``estimator=mss``; ``mws`` for minibatch-weighted sampling), using the size of
    the training split, read from the data module when ``dataset_size`` is None.
    """

    KIND = "tcvae"

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 6.0,
        gamma: float = 1.0,
        estimator: str = "mss",
        dataset_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        checks.number("model.alpha", alpha, 0.0)
        checks.number("model.gamma", gamma, 0.0)
        checks.choice("model.estimator", estimator, TC_ESTIMATORS)
        if dataset_size is not None:
            checks.integer("model.dataset_size", dataset_size, 2)
        super().__init__(beta=beta, **kwargs)
        self._dataset_size = dataset_size

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if self.hparams.dataset_size is None and getattr(datamodule, "train_idx", None) is not None:
            self._dataset_size = len(datamodule.train_idx)

    def regulariser(self, terms: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self._dataset_size is None:
            raise RuntimeError("TCVAE needs model.dataset_size or a data module with a train split")
        parts = tc_decomposition(terms["z"], terms["mu"], terms["logvar"], self._dataset_size, self.hparams.estimator)
        hp = self.hparams
        return hp.alpha * parts["mi"] + hp.beta * parts["tc"] + hp.gamma * parts["dim_kl"], parts


class MMDVAE(VAE):
    """InfoVAE / MMD-VAE (Zhao et al. 2019): recon + beta * KL + mmd_weight * MMD(codes, N(0, I)).

    ``beta`` is the optional KL weight (0 by default); the MMD is between the
    batch's sampled codes and as many fresh prior samples, with an ``imq`` or ``rbf`` kernel.
    """

    KIND = "mmd_vae"

    def __init__(
        self,
        beta: float = 0.0,
        mmd_weight: float = 100.0,
        kernel: str = "imq",
        kernel_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        checks.number("model.mmd_weight", mmd_weight, 0.0)
        checks.choice("model.kernel", kernel, MMD_KERNELS)
        checks.number("model.kernel_scale", kernel_scale, 0.0, strict=True)
        super().__init__(beta=beta, **kwargs)

    def regulariser(self, terms: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z = terms["z"]
        divergence = mmd(z, torch.randn_like(z), self.hparams.kernel, self.hparams.kernel_scale)
        return self.hparams.beta * terms["kl"] + self.hparams.mmd_weight * divergence, {"mmd": divergence}


class CapacityVAE(VAE):
    """beta-VAE with controlled capacity (Burgess et al. 2018): recon + gamma * |KL - C|.

    ``C`` rises linearly from 0 at step 0 to ``capacity_max`` nats at ``capacity_steps`` and stays
    there. It is a function of ``global_step``, which a resumed run restores, so the schedule
    continues exactly. Validation and test use ``C = capacity_max``. ``model.beta`` is not used.
    """

    KIND = "capacity_vae"

    def __init__(
        self, gamma: float = 100.0, capacity_max: float = 15.0, capacity_steps: int = 5000, **kwargs: Any
    ) -> None:
        checks.number("model.gamma", gamma, 0.0)
        checks.number("model.capacity_max", capacity_max, 0.0)
        checks.integer("model.capacity_steps", capacity_steps, 1)
        super().__init__(**kwargs)

    def capacity(self, step: int) -> float:
        return self.hparams.capacity_max * min(1.0, step / self.hparams.capacity_steps)

    def regulariser(self, terms: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        # validation and test score the objective at full capacity: one objective across epochs for
        # the best checkpoint, early stopping and the LR scheduler
        c = self.capacity(self.global_step) if self.training else float(self.hparams.capacity_max)
        capacity = torch.tensor(c, device=terms["kl"].device)
        return self.hparams.gamma * (terms["kl"] - c).abs(), {"capacity": capacity}


class FactorVAE(VAE):
    """FactorVAE (Kim & Mnih 2018): VAE loss + gamma * TC, the TC estimated by a discriminator.

    The discriminator tells the batch's sampled codes (class 0) from the same codes with each
    dimension shuffled across the batch on its own (class 1, ``permute_dims``); ``TC ~ E[logit_0 -
    logit_1]``. It has its own Adam optimizer; both are stepped by hand (manual optimization) after
    one backward pass. The permuted codes come from the same batch (the paper draws a second batch).
    """

    KIND = "factor_vae"

    def __init__(
        self,
        gamma: float = 10.0,
        disc_hidden: Sequence[int] = (256, 256),
        disc_lr: float = 1e-4,
        **kwargs: Any,
    ) -> None:
        checks.number("model.gamma", gamma, 0.0)
        checks.integers("model.disc_hidden", disc_hidden, 1)
        checks.number("model.disc_lr", disc_lr, 0.0, strict=True)
        super().__init__(**kwargs)
        self.automatic_optimization = False
        layers: list[nn.Module] = []
        width = self.hparams.latent_dim
        for hidden in disc_hidden:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.discriminator = nn.Sequential(*layers, nn.Linear(width, 2))

    def optimized_parameters(self) -> Any:
        return (p for name, p in self.named_parameters() if not name.startswith("discriminator."))

    def regulariser(self, terms: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z = terms["z"]
        # the TC reaches the encoder but not the discriminator: it sees detached weights
        frozen = {name: p.detach() for name, p in self.discriminator.named_parameters()}
        logits = torch.func.functional_call(self.discriminator, frozen, (z,))
        tc = (logits[:, 0] - logits[:, 1]).mean()
        # the discriminator's own loss, on codes cut from the VAE's graph (training_step steps it)
        real, shuffled = z.detach(), permute_dims(z.detach())
        both = self.discriminator(torch.cat([real, shuffled]))
        labels = torch.cat([torch.zeros(len(z)), torch.ones(len(z))]).long().to(z.device)
        logs = {"tc": tc, "disc_loss": F.cross_entropy(both, labels)}
        logs["disc_accuracy"] = (both.argmax(1) == labels).float().mean()
        return self.hparams.beta * terms["kl"] + self.hparams.gamma * tc, logs

    def configure_optimizers(self) -> Any:
        main = super().configure_optimizers()
        disc = torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.disc_lr, betas=(0.5, 0.9))
        return [main if isinstance(main, dict) else {"optimizer": main}, {"optimizer": disc}]

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        vae_opt, disc_opt = self.optimizers()
        x = self._batch_images(batch)
        terms = self.loss_terms(x)
        vae_opt.zero_grad()
        disc_opt.zero_grad()
        # one backward: the VAE loss reaches only the VAE's weights, the discriminator's loss only its
        # own (codes detached), so every parameter gets its gradient in one pass (as DDP requires)
        self.manual_backward(terms["loss"] + terms["disc_loss"])
        vae_opt.step()
        disc_opt.step()
        self._accumulate_train(terms, x.shape[0])
        return terms["loss"]

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        scheduler = self.lr_schedulers()
        if scheduler is not None and not isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step()

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        scheduler = self.lr_schedulers()
        monitor = (self.hparams.scheduler or {}).get("monitor", "val/loss")
        value = self.trainer.callback_metrics.get(monitor)
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau) and not self.trainer.sanity_checking:
            if value is not None:
                scheduler.step(value)
