"""The book's dataset inspections (c4e1 MNIST, c7e1 CIFAR-10): print and show what the book shows."""
