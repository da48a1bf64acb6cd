"""ldl: every programming example of *Learning Deep Learning* as a named, reproducible experiment."""

__version__ = "0.1.0"
