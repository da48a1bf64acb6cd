"""The book's hand-written NumPy/Python examples (chapters 1 and 3), reproduced digit for digit."""
