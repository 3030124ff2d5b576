"""Paraphrase tables for instructions: synonyms and sentence templates (data only).

The suite generator (``sim.tasks.generate``) draws from these tables, and they are meant to be
reused to train and test language models, so they hold no logic. Templates use ``{obj}`` /
``{target}`` (skill-like phrases), ``{0}``, ``{1}``, ... (joined steps) or the named fields
given next to each table. Canonical names (``COLORS``, ``OBJECT_TYPES``, places, areas) are not
repeated in the synonym lists.
"""

from __future__ import annotations

COLOR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "red": ("crimson", "scarlet", "cherry"),
    "green": ("emerald", "lime", "grass green"),
    "blue": ("azure", "navy", "cobalt"),
    "yellow": ("golden", "lemon", "mustard"),
    "orange": ("tangerine", "amber", "apricot"),
    "purple": ("violet", "lavender", "plum"),
    "pink": ("rose", "fuchsia", "bubblegum"),
    "cyan": ("turquoise", "aqua", "teal"),
}

TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "block": ("cube", "brick", "toy block"),
    "bowl": ("dish", "container", "basin"),
}

PLACE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "top left corner": ("upper left corner", "far left corner", "top-left corner"),
    "top right corner": ("upper right corner", "far right corner", "top-right corner"),
    "bottom left corner": ("lower left corner", "near left corner", "bottom-left corner"),
    "bottom right corner": ("lower right corner", "near right corner", "bottom-right corner"),
    "middle": ("center", "centre", "middle of the table"),
}

AREA_SYNONYMS: dict[str, tuple[str, ...]] = {
    "table": ("dining table", "work table"),
    "counter": ("kitchen counter", "countertop"),
}

# Sentences for one goal, by goal kind: pick -> holding(obj); in -> in(obj, target bowl);
# on -> on(obj, target block); at -> at(obj, target place). The first two of each kind use
# plain verbs (used where only the nouns should vary).
VERB_TEMPLATES: dict[str, tuple[str, ...]] = {
    "pick": (
        "pick up the {obj}",
        "take the {obj}",
        "grab the {obj}",
        "lift the {obj}",
        "pick the {obj} up",
        "get the {obj}",
        "grasp the {obj}",
        "lift up the {obj}",
        "hold the {obj}",
    ),
    "in": (
        "put the {obj} in the {target}",
        "place the {obj} in the {target}",
        "drop the {obj} into the {target}",
        "put the {obj} into the {target}",
        "move the {obj} into the {target}",
        "place the {obj} inside the {target}",
        "toss the {obj} into the {target}",
        "set the {obj} in the {target}",
        "deposit the {obj} in the {target}",
    ),
    "on": (
        "put the {obj} on the {target}",
        "place the {obj} on the {target}",
        "stack the {obj} on the {target}",
        "set the {obj} on the {target}",
        "put the {obj} on top of the {target}",
        "place the {obj} onto the {target}",
        "stack the {obj} on top of the {target}",
        "pile the {obj} onto the {target}",
        "rest the {obj} on the {target}",
    ),
    "at": (
        "put the {obj} at the {target}",
        "place the {obj} at the {target}",
        "move the {obj} to the {target}",
        "slide the {obj} over to the {target}",
        "bring the {obj} to the {target}",
        "put the {obj} in the {target}",
        "set the {obj} down at the {target}",
        "carry the {obj} to the {target}",
        "relocate the {obj} to the {target}",
    ),
}

# Joining named steps into one instruction, by number of steps.
STEP_CONNECTORS: dict[int, tuple[str, ...]] = {
    2: (
        "first {0}, then {1}",
        "{0}, and then {1}",
        "{0}, then {1}",
        "first {0}, and after that {1}",
        "{0}; once that is done, {1}",
    ),
    3: (
        "first {0}, then {1}, and finally {2}",
        "{0}, then {1}, then {2}",
        "first {0}, next {1}, and last {2}",
        "{0}; after that {1}; finally {2}",
        "start by doing this: {0}, then {1}, and then {2}",
    ),
}

# Long-horizon instructions. Fields: {bowl} (clear), {sequence} (stack: "the red block, the
# green block and the blue block", bottom first).
SORT_INSTRUCTIONS: tuple[str, ...] = (
    "sort the blocks into the bowls of the same colour",
    "put each block in the bowl of the matching colour",
    "put every block into the bowl with the same colour",
    "match each block with the bowl of its colour",
    "sort the blocks by colour into the bowls",
    "place each block in the bowl that has the same colour",
)
STACK_INSTRUCTIONS: tuple[str, ...] = (
    "stack {sequence} into a tower, bottom to top",
    "build a tower of {sequence} from the bottom up",
    "stack the blocks in this order from the bottom: {sequence}",
    "make one stack with {sequence}, starting at the bottom",
    "pile up {sequence}, with the first one at the bottom",
)
CLEAR_INSTRUCTIONS: tuple[str, ...] = (
    "empty the {bowl}",
    "take all the blocks out of the {bowl}",
    "remove every block from the {bowl}",
    "clear out the {bowl}",
    "get all the blocks out of the {bowl}",
    "unload the {bowl}",
)

# Mobile instructions. Fields: {obj}, {source} and {dest} (areas), {bowl}.
BRING_INSTRUCTIONS: tuple[str, ...] = (
    "bring the {obj} from the {source} to the {dest}",
    "move the {obj} from the {source} to the {dest}",
    "carry the {obj} from the {source} over to the {dest}",
    "take the {obj} on the {source} to the {dest}",
    "fetch the {obj} from the {source} and put it on the {dest}",
)
BRING_INTO_INSTRUCTIONS: tuple[str, ...] = (
    "bring the {obj} from the {source} to the {bowl} on the {dest}",
    "put the {obj} from the {source} in the {bowl} on the {dest}",
    "take the {obj} on the {source} and drop it into the {bowl} on the {dest}",
    "carry the {obj} from the {source} into the {bowl} on the {dest}",
)
# Appended to a mobile instruction whose goal also says where the robot ends. Field: {area}.
RETURN_SUFFIXES: tuple[str, ...] = (
    ", then come back to the {area}",
    ", and then return to the {area}",
    " and go back to the {area}",
)
