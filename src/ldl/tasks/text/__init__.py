"""Text (chapters 11-13): Frankenstein windows, text generation, learned and GloVe embeddings."""
