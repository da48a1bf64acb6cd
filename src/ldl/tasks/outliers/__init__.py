"""Outlier detection with an autoencoder (chapter 17, c17e1): the model, the outlier sets, the report."""
