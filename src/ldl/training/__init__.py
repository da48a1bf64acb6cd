"""Training: optimizers, the tf.data input pipeline, checkpoints and `train(cfg)`."""
