"""The Latent tab in TensorBoard: the explorer, with its epoch slider, over the runs of a log directory."""
