"""Command-line apps (Hydra): ``vla-run``, ``vla-record``."""
