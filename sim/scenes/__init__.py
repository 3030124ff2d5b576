"""Scene registry: a scene is the static world (tables), its named places and areas.

Adding a scene is one new file with a :class:`Scene` subclass decorated by
:func:`register_scene`, imported below.
"""

from sim.scenes import mobile, tabletop  # noqa: F401  (registers the built-in scenes)
from sim.scenes.base import SCENES, Scene, make_scene, register_scene

__all__ = ["SCENES", "Scene", "make_scene", "register_scene"]
