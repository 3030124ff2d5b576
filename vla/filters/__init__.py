"""Hand-written action filters: rules that change a policy's output, each a named, opt-in
wrapper around any policy (never part of what a policy is called). A figure taken with a
filter is reported beside the policy's own figure, never instead of it.

``wrap_policy(policy, "stall_toggle", steps=3, goal_reach=0.06)``; on the command line
``policy_filter=stall_toggle`` (options ``"+policy_filter_options={steps: 3}"``).
"""

from __future__ import annotations

from typing import Any

from vla.filters.stall_toggle import StallToggle, StallToggleFilter

FILTERS = {"stall_toggle": StallToggleFilter}


def wrap_policy(policy: Any, name: str | None, **options: Any) -> Any:
    """``policy`` wrapped in the filter ``name`` (None: the policy itself)."""
    if not name:
        return policy
    if name not in FILTERS:
        raise ValueError(f"unknown policy_filter {name!r}; choose one of {sorted(FILTERS)}")
    return FILTERS[name](policy, **options)


__all__ = ["FILTERS", "StallToggle", "StallToggleFilter", "wrap_policy"]
