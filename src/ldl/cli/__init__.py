"""The `ldl` command line: a thin layer over importable functions."""
