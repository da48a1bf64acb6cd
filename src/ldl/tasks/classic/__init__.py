"""The book's hand-written Python/NumPy programs (chapters 1 and 3) and the numpy_program runner."""
