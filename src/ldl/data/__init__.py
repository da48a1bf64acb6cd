"""Dataset loaders: read the book's local file formats, else download from the official source."""
