"""The "Can" interface: ``affordance(observation, skill) -> float in [0, 1]`` and its registry.

An affordance estimates how likely ``skill`` succeeds from the current ``observation`` (a
value function learned from rollouts in SayCan). Only the ``constant`` affordance lives here;
the others (``oracle``: privileged simulator state, ``learned``: a value function) register
themselves from ``vla`` with :func:`register_affordance`. Every factory is called as
``factory(env=..., **options)``: ``env`` is what an affordance may inspect (a simulator env,
a robot, or None) and is ignored by those that need nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sim.registry import Registry


@runtime_checkable
class Affordance(Protocol):
    """Probability that ``skill`` succeeds if run now, given ``observation``."""

    def __call__(self, observation: Any, skill: str) -> float: ...


AffordanceFactory = Callable[..., Affordance]
AFFORDANCES: Registry[AffordanceFactory] = Registry("affordance")


def register_affordance(name: str) -> Callable[[AffordanceFactory], AffordanceFactory]:
    """Decorator: make ``factory(**kwargs)`` available as ``make_affordance(name, **kwargs)``."""
    return AFFORDANCES.register(name)


def make_affordance(name: str, **kwargs: Any) -> Affordance:
    """Build the affordance registered as ``name``."""
    return AFFORDANCES.get(name)(**kwargs)


@dataclass(frozen=True)
class ConstantAffordance:
    """Every skill gets ``value``: the planner then follows the language model alone."""

    value: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.value <= 1.0:
            raise ValueError(f"a constant affordance must lie in [0, 1], got {self.value}")

    def __call__(self, observation: Any, skill: str) -> float:
        return self.value


@register_affordance("constant")
def constant_affordance(env: Any = None, value: float = 1.0) -> ConstantAffordance:
    """Factory for ``make_affordance("constant", value=...)`` (``env`` is not needed)."""
    return ConstantAffordance(value)
