"""The registry helper, and every registry of the stack built on it."""

import importlib

import pytest

from sim.registry import Registry


def test_register_get_and_iterate():
    shapes = Registry("shape")

    @shapes.register("square")
    class Square:
        pass

    shapes.add("circle", object)
    assert shapes.get("square") is Square and shapes["circle"] is object
    assert list(shapes) == shapes.names() == ["circle", "square"]
    assert "square" in shapes and "hexagon" not in shapes and len(shapes) == 2
    assert shapes.add("square", Square) is Square  # the same object again: a no-op


def test_a_name_taken_by_another_object_is_refused():
    shapes = Registry("shape")
    shapes.add("square", int)
    with pytest.raises(ValueError, match="shape name 'square' is already registered to"):
        shapes.add("square", float)
    assert shapes.get("square") is int


def test_an_unknown_name_is_one_line_naming_the_choices():
    shapes = Registry("shape")
    shapes.add("square", int)
    shapes.add("circle", float)
    with pytest.raises(ValueError) as error:
        shapes.get("hexagon")
    assert str(error.value) == "unknown shape 'hexagon'; choose one of ['circle', 'square']"


@pytest.mark.parametrize(
    "module,name,expected",
    [
        ("sim.scenes", "SCENES", {"tabletop", "mobile"}),
        ("sim.skills", "SKILLS", {"pick", "place_in", "place_on", "place_at", "go_to", "done"}),
        ("planners.scorer", "SCORERS", set()),
        ("planners.affordance", "AFFORDANCES", {"constant"}),
        ("vla.planning", "PLANNERS", {"none", "oracle", "saycan"}),
        ("vla.policies", "POLICIES", {"rt1", "rt2"}),
        ("vla.robot", "ROBOTS", {"pybullet", "xarm"}),
        ("vla.training.loop", "TRAINERS", {"rt1", "rt2"}),
    ],
)
def test_every_registry_is_a_registry_with_its_built_ins(module, name, expected):
    registry = getattr(importlib.import_module(module), name)
    assert isinstance(registry, Registry)
    assert expected <= set(registry)
    with pytest.raises(ValueError, match=f"unknown {registry.kind} 'nonsense'; choose one of"):
        registry.get("nonsense")
