"""The VLA half of the stack: tokenizer, datasets, policies, training, evaluation, CLIs.

``vla.load_policy(name_or_checkpoint_dir)`` is the entry point for policies (imported on
first use, so ``import vla`` stays cheap).
"""

from typing import Any

__all__ = ["load_policy"]


def __getattr__(name: str) -> Any:
    if name == "load_policy":
        from vla.policies import load_policy

        return load_policy
    raise AttributeError(f"module 'vla' has no attribute {name!r}")
