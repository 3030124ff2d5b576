"""Policies (observation -> action) and their registry; importing this registers them all."""

from vla.policies.base import POLICIES, Policy, load_policy, register_policy
from vla.policies.rt1_policy import RT1Policy

__all__ = ["POLICIES", "Policy", "RT1Policy", "load_policy", "register_policy"]
