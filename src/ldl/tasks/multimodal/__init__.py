"""Multimodal and multitask networks (chapter 17, c17e2, c17e3): MNIST digits with a two-word text."""
