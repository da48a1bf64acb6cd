"""Task folders: the code one task uses and nobody else (its data, models, decoding, callbacks)."""
