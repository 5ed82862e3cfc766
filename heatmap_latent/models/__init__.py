from heatmap_latent.models.autoencoder import AE, VAE, LatentAutoencoder
from heatmap_latent.models.family import MMDVAE, TCVAE, CapacityVAE, FactorVAE

__all__ = ["AE", "VAE", "CapacityVAE", "FactorVAE", "LatentAutoencoder", "MMDVAE", "TCVAE"]
