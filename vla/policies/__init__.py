"""Policies (observation -> action) and their registry; importing this registers them all."""

from vla.policies.base import POLICIES, Policy, load_policy, register_policy
from vla.policies.rt1.policy import RT1Policy
from vla.policies.rt2.policy import RT2Policy

__all__ = ["POLICIES", "Policy", "RT1Policy", "RT2Policy", "load_policy", "register_policy"]
