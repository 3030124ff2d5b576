"""A registry: the things of one kind (scenes, skills, policies, robots, ...) by name.

Every extension point of the stack is one of these, so adding a scene, a policy or a robot
backend is one new file whose class or factory registers itself::

    SCENES = Registry("scene")

    @SCENES.register("tabletop")
    class Tabletop(Scene): ...

    SCENES.get("tabletop")  # the class; an unknown name is a one-line ValueError

It holds no simulator state and imports nothing, which is why ``planners`` (otherwise free
of ``sim`` and ``vla`` imports) may use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Objects of one ``kind`` (a word for messages, e.g. ``"scene"``) by unique name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` as ``name``; registering the same object again is a no-op.

        Raises:
            ValueError: ``name`` is taken by a different object.
        """
        taken = self._entries.get(name)
        if taken is not None and taken is not obj:
            raise ValueError(f"{self.kind} name {name!r} is already registered to {taken!r}")
        self._entries[name] = obj
        return obj

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@REGISTRY.register("name")``."""
        return lambda obj: self.add(name, obj)

    def get(self, name: str) -> T:
        """The object registered as ``name``.

        Raises:
            ValueError: one line naming the unknown ``name`` and the registered ones.
        """
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {self.names()}")
        return self._entries[name]

    __getitem__ = get

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
