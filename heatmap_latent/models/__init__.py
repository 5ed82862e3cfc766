from heatmap_latent.models.autoencoder import AE, VAE, LatentAutoencoder

__all__ = ["AE", "VAE", "LatentAutoencoder"]
