"""``place the <block> in/on/at the <target>``: carry, come down, open, retreat.

One class per target kind shares the motion; each says where the block's centre should
be released and what success means. State-derived (see :mod:`sim.skills.base`): holding
the block, carry it down the funnel to where it is released and open there; with the
gripper open and the block just below the hand, rise to ``CARRY_Z`` and stop; any other
state (the block is not in the hand nor under it) ends the skill.
"""

from __future__ import annotations

import numpy as np

from sim.geometry import BLOCK_SIZE, BOWL_INNER_RADIUS, MOBILE_AREAS, TABLE_TOP_Z
from sim.skills.base import Skill, approach, move_arm, register_skill
from sim.tasks.predicates import Predicate

CARRY_Z = TABLE_TOP_Z + 0.17
RELEASE_GAP = 0.008  # release the block this far above where it will rest (m)
# the hand opens within this horizontal / vertical distance of its release pose (m): the
# goal predicates allow centimetres (sim.tasks.predicates), a learner gets a target it can hit
RELEASE_TOLERANCE = (0.01, 0.01)
RETREAT_TOLERANCE = 0.015  # the retreat ends this close to CARRY_Z (m)
JUST_RELEASED = 0.05  # a free block this close to the hand horizontally was just let go (m)
# Three places for blocks in a bowl, 0.03 m off its centre and 0.052 m apart, so up to
# three blocks sit side by side (a block centred in the bowl would leave no room).
IN_BOWL_SLOTS = tuple((0.03 * np.cos(a), 0.03 * np.sin(a)) for a in np.radians([90, 210, 330]))
AREA_SPOT_CLEARANCE = {"block": 0.06, "bowl": 0.115}  # from an object's centre (m)


class Place(Skill):
    """Shared carry-and-release motion; subclasses define :meth:`release_point`."""

    def policy(self, world):
        held = world.robot.grasp.held_body
        ee = world.robot.ee_pose()[0]
        if held is None and self._just_released(world, ee):  # retreat
            if ee[2] > CARRY_Z - RETREAT_TOLERANCE:
                return self.terminate(world)
            return move_arm(world, np.array([ee[0], ee[1], CARRY_Z]), False)[0]
        if held is None or world.names[held] != self.call.obj:
            return self.terminate(world)
        goal_ee = self.release_point(world) - _held_offset(world, held, ee)
        act, _ = approach(world, goal_ee, max(CARRY_Z, goal_ee[2] + 0.06), True)
        off = np.abs(goal_ee - ee)
        if off[:2].max() < RELEASE_TOLERANCE[0] and off[2] < RELEASE_TOLERANCE[1]:
            # let go, without moving, so the block drops straight
            act, _ = move_arm(world, ee, False)
        return act

    def _just_released(self, world, ee: np.ndarray) -> bool:
        """The skill's block lies free just below the hand (the release happened)."""
        body = world.bodies.get(self.call.obj)
        if body is None or self.call.obj not in world.placed:
            return False
        pos = np.array(world.client.getBasePositionAndOrientation(body)[0])
        return bool(np.linalg.norm(pos[:2] - ee[:2]) < JUST_RELEASED and pos[2] < ee[2])

    def release_point(self, world) -> np.ndarray:
        raise NotImplementedError

    def key_point(self, world):
        held = world.robot.grasp.held_body
        if held is None or world.names[held] != self.call.obj:
            return None
        ee = world.robot.ee_pose()[0]
        return self.release_point(world) - _held_offset(world, held, ee)


def _held_offset(world, held: int, ee: np.ndarray) -> np.ndarray:
    """The held block's centre minus the grasp point (world, m)."""
    return np.array(world.client.getBasePositionAndOrientation(held)[0]) - ee


@register_skill
class PlaceIn(Place):
    name = "place_in"

    def release_point(self, world):
        """The slot of the bowl farthest from the blocks already inside it."""
        state = world.snapshot()
        bowl = np.array(state.objects[self.call.target].position)
        inside = [
            np.array(o.position[:2])
            for n, o in state.objects.items()
            if o.kind == "block"
            and n != self.call.obj
            and np.linalg.norm(np.subtract(o.position[:2], bowl[:2])) < BOWL_INNER_RADIUS
        ]
        slots = [bowl[:2] + np.array(offset) for offset in IN_BOWL_SLOTS]
        spot = max(slots, key=lambda q: min((np.linalg.norm(q - b) for b in inside), default=0))
        return np.array([spot[0], spot[1], bowl[2] + BLOCK_SIZE / 2 + RELEASE_GAP])

    def goal(self):
        return [Predicate("in", (self.call.obj, self.call.target))]


@register_skill
class PlaceOn(Place):
    name = "place_on"

    def release_point(self, world):
        if self.call.target in world.scene.areas:
            return _free_spot(world, self.call.target, self.call.obj)
        below = np.array(world.snapshot().objects[self.call.target].position)
        return below + (0.0, 0.0, BLOCK_SIZE + RELEASE_GAP)

    def goal(self):
        kind = "at" if self.call.target in MOBILE_AREAS else "on"
        return [Predicate(kind, (self.call.obj, self.call.target))]


@register_skill
class PlaceAt(Place):
    name = "place_at"

    def release_point(self, world):
        x, y = world.scene.places[self.call.target]
        return np.array([x, y, TABLE_TOP_Z + BLOCK_SIZE / 2 + RELEASE_GAP])

    def goal(self):
        return [Predicate("at", (self.call.obj, self.call.target))]


def _free_spot(world, area_name: str, moving: str) -> np.ndarray:
    """The free point of an area nearest its centre (a fixed grid, so deterministic)."""
    area = world.scene.areas[area_name]
    objects = [o for n, o in world.snapshot().objects.items() if n != moving]
    (cx, cy), (hx, hy) = area.center, area.half_extents
    grid = [
        (cx + dx, cy + dy)
        for dx in np.linspace(-hx + 0.06, hx - 0.06, 7)
        for dy in np.linspace(-hy + 0.06, hy - 0.06, 9)
    ]
    grid.sort(key=lambda q: (q[0] - cx) ** 2 + (q[1] - cy) ** 2)
    for x, y in grid:
        if all(
            np.hypot(x - o.position[0], y - o.position[1]) > AREA_SPOT_CLEARANCE[o.kind]
            for o in objects
        ):
            return np.array([x, y, TABLE_TOP_Z + BLOCK_SIZE / 2 + RELEASE_GAP])
    return np.array([cx, cy, TABLE_TOP_Z + BLOCK_SIZE / 2 + RELEASE_GAP])
