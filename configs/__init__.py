"""Hydra config groups (a package so installed apps find them)."""
