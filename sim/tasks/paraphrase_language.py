"""Phrase tables of the richer task language (the ``language`` suite; data only).

The makers in :mod:`sim.tasks.language` draw from these tables, as the built-in suites draw
from :mod:`sim.tasks.paraphrase`. Fields: ``{obj}``, ``{target}``, ``{bowl}``, ``{block}``,
``{place}``, ``{area}``: a noun phrase without its article (``red block``); ``{excluded}``:
``red one`` or ``red block``; ``{colour}``: a colour word; ``{sequence}``: ``the red block,
the blue block and the green block``; ``{0}``, ``{1}``: whole clauses (``put the red block
in the blue bowl``). Canonical names and the synonyms of :mod:`sim.tasks.paraphrase` are not
repeated here.
"""

from __future__ import annotations

# -- nouns: other words for object types, colours described, places described
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "block": ("square block", "building block", "little cube", "wooden block"),
    "bowl": ("cup", "pot", "round dish", "tub"),
}
COLOR_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "red": ("the colour of a tomato", "the colour of a strawberry", "the colour of a fire truck"),
    "green": ("the colour of grass", "the colour of a leaf", "the colour of a frog"),
    "blue": ("the colour of the sky", "the colour of the sea", "the colour of blueberries"),
    "yellow": ("the colour of a banana", "the colour of butter", "the colour of the sun"),
    "orange": ("the colour of a carrot", "the colour of an orange", "the colour of a pumpkin"),
    "purple": ("the colour of grapes", "the colour of a violet", "the colour of an eggplant"),
    "pink": ("the colour of cotton candy", "the colour of a piglet", "the colour of a flamingo"),
    "cyan": ("the colour of a swimming pool", "the colour of ice", "the colour of a lagoon"),
}
DESCRIBED: tuple[str, ...] = ("{kind} that is {desc}", "{kind} that has {desc}")
PLACE_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "top left corner": ("corner furthest from you on the left", "rear left corner"),
    "top right corner": ("corner furthest from you on the right", "rear right corner"),
    "bottom left corner": ("corner closest to you on the left", "front left corner"),
    "bottom right corner": ("corner closest to you on the right", "front right corner"),
    "middle": ("centre of the table", "spot in the very middle"),
}
ONLY: dict[str, tuple[str, ...]] = {  # the one object of its type in the scene
    "block": ("block", "only block", "one block there is"),
    "bowl": ("bowl", "only bowl", "single bowl"),
}

# -- quantifiers. Fields: {bowl}; {area}
ALL_INTO: tuple[str, ...] = (
    "put all the blocks in the {bowl}",
    "put every block into the {bowl}",
    "place each of the blocks in the {bowl}",
    "move all of the blocks into the {bowl}",
    "gather all the blocks in the {bowl}",
)
BOTH_INTO: tuple[str, ...] = (
    "put both blocks in the {bowl}",
    "place both of the blocks into the {bowl}",
    "put the two blocks in the {bowl}",
    "collect both blocks in the {bowl}",
)
ALL_TO_AREA: tuple[str, ...] = (
    "bring all the blocks to the {area}",
    "move every block over to the {area}",
    "carry each block to the {area}",
    "take all of the blocks to the {area}",
    "gather the blocks on the {area}",
)
# {0}: the first clause, naming a block; the other block and bowl are the other ones
THE_OTHER: tuple[str, ...] = (
    "{0} and the other block in the other bowl",
    "{0}, then put the other block in the other bowl",
    "{0} and the remaining block in the other bowl",
    "{0}; the other block belongs in the other bowl",
)
THE_REST: tuple[str, ...] = (
    "{0} and the rest of the blocks in the {bowl}",
    "{0}, then put the remaining blocks in the {bowl}",
    "{0}, and put all the other blocks in the {bowl}",
    "{0}; everything else goes in the {bowl}",
)

# -- negation and exclusion. Fields: {excluded}, {bowl}, {obj}, {colour}, {target}
EXCEPT: tuple[str, ...] = (
    "put every block except the {excluded} in the {bowl}",
    "put all the blocks but the {excluded} in the {bowl}",
    "put all the blocks other than the {excluded} into the {bowl}",
    "place every block in the {bowl} except for the {excluded}",
    "move all blocks apart from the {excluded} into the {bowl}",
)
LEAVE_OUT: tuple[str, ...] = (  # exclusion as a clause of its own
    "put all the blocks in the {bowl}, but leave the {excluded} where it is",
    "put the blocks in the {bowl} and leave the {excluded} alone",
    "put every block in the {bowl}; the {excluded} stays where it is",
    "fill the {bowl} with the blocks, keeping the {excluded} out of it",
    "put the blocks into the {bowl}, and don't touch the {excluded}",
)
NOT_THAT_BOWL: tuple[str, ...] = (
    "put the {obj} in the bowl that is not {colour}",
    "put the {obj} in a bowl, but not the {bowl}",
    "put the {obj} in the bowl that isn't the {bowl}",
    "don't put the {obj} in the {bowl}, put it in the other bowl",
    "place the {obj} in whichever bowl is not {colour}",
)
NOT_IN: tuple[str, ...] = (
    "make sure the {obj} is not in the {bowl}",
    "take the {obj} out of the {bowl}",
    "the {obj} should not be in the {bowl}",
    "get the {obj} out of the {bowl}",
    "ensure that the {obj} is no longer in the {bowl}",
)
NOT_ON: tuple[str, ...] = (
    "take the {obj} off the {target}",
    "make sure the {obj} is not on the {target}",
    "the {obj} should not be on top of the {target}",
    "lift the {obj} off the {target}",
    "ensure that the {obj} is no longer on the {target}",
)

# -- orderings. {0}, {1}, {2}: clauses in the order they are to be done
SEQUENCE: dict[int, tuple[str, ...]] = {
    2: (
        "{0}, and after that {1}",
        "{0}. when you are done, {1}",
        "first {0}; second, {1}",
        "to begin, {0}; afterwards, {1}",
    ),
    3: (
        "{0}, then {1}, and lastly {2}",
        "first {0}, second {1}, third {2}",
        "{0}. after that, {1}. when you are done, {2}",
        "to begin, {0}; afterwards, {1}; to finish, {2}",
    ),
}
# pick a block and place it: {obj}, {where} ("in the blue bowl", "at the middle")
PICK_AND_PLACE: tuple[str, ...] = (
    "pick up the {obj} and put it {where}",
    "grab the {obj} and place it {where}",
    "take the {obj}, then set it down {where}",
    "lift the {obj} and drop it {where}",
    "scoop up the {obj} and put it {where}",
)
BUT_FIRST: tuple[str, ...] = (  # the later step said first: {1} before {0} in the text
    "{1}, but first {0}",
    "before you {1}, {0}",
    "{1}; before that, {0}",
    "{1}, but before doing so, {0}",
    "{1} after you {0}",
)
TOWER_UP: tuple[str, ...] = (  # {sequence}: bottom first
    "stack {sequence}, going from the bottom to the top",
    "make a tower out of {sequence}, the first one at the bottom",
    "stack {sequence} on top of each other, bottom first",
    "build a stack from {sequence}, in that order from the bottom",
    "erect a tower of {sequence}, lowest first",
)
TOWER_DOWN: tuple[str, ...] = (  # {sequence}: top first
    "stack {sequence} from top to bottom",
    "make a tower of {sequence}, listed from the top down",
    "stack the blocks so that, from the top, they are {sequence}",
    "build a stack reading {sequence} from the top downwards",
)
# three blocks named by their level: {bottom}, {middle}, {top}
TOWER_ROLES: tuple[str, ...] = (
    "build a tower with the {bottom} at the bottom, the {middle} in the middle and the {top} "
    "on top",
    "make a stack with the {top} on top, the {middle} under it and the {bottom} at the bottom",
    "the {bottom} goes at the bottom, the {middle} on it and the {top} at the top of the tower",
)

# -- references by relation (phrases without the article; used as {obj})
HELD_REFS: tuple[str, ...] = (
    "block you are holding",
    "block in your hand",
    "block you're holding",
    "block in the gripper",
    "block you are carrying",
)
CONTAINER_REFS: tuple[str, ...] = (  # {bowl}: the bowl holding just this block
    "block in the {bowl}",
    "block that is in the {bowl}",
    "block sitting in the {bowl}",
)
SUPPORT_REFS: tuple[str, ...] = (  # {block}: the block right under it
    "block on the {block}",
    "block on top of the {block}",
    "block that is on the {block}",
    "block resting on the {block}",
)
PLACE_REFS: tuple[str, ...] = (  # {place}: where it stands
    "block at the {place}",
    "block in the {place}",
    "block that is at the {place}",
    "block standing at the {place}",
)
SIDE_REFS: dict[str, tuple[str, ...]] = {  # two blocks, one on each side
    "left": ("block on the left", "left block", "block on the left side"),
    "right": ("block on the right", "right block", "block on the right side"),
    "near": ("block nearest to you", "block closer to you", "nearer block"),
    "far": ("block furthest from you", "block farther from you", "block further away"),
}

# -- swaps, rearrangements, returns, clearing. Fields: {bowl}, {bowl2}, {obj}, {obj2}, ...
SWAP_BOWLS: tuple[str, ...] = (
    "swap the blocks in the {bowl} and the {bowl2}",
    "swap the contents of the {bowl} and the {bowl2}",
    "switch the blocks in the {bowl} and the {bowl2}",
    "exchange the blocks of the {bowl} and the {bowl2}",
    "the blocks in the {bowl} and the {bowl2} should trade places",
)
SWAP_PLACES: tuple[str, ...] = (
    "swap the {obj} and the {obj2}",
    "switch the places of the {obj} and the {obj2}",
    "make the {obj} and the {obj2} change places",
    "exchange the positions of the {obj} and the {obj2}",
    "let the {obj} and the {obj2} trade places",
)
TRANSFER: tuple[str, ...] = (
    "move all the blocks from the {bowl} to the {bowl2}",
    "empty the {bowl} into the {bowl2}",
    "put every block from the {bowl} in the {bowl2}",
    "take the blocks out of the {bowl} and put them in the {bowl2}",
    "transfer the blocks in the {bowl} to the {bowl2}",
)
EMPTY_ONTO: tuple[str, ...] = (  # {target}: a place (one block inside) or an area
    "empty the {bowl} onto the {target}",
    "take what is in the {bowl} and put it all on the {target}",
    "empty the {bowl} out on the {target}",
    "tip out the {bowl} on the {target}",
)
CLEAR_BLOCK: tuple[str, ...] = (
    "clear the top of the {block}",
    "take everything off the {block}",
    "make sure nothing is on the {block}",
    "get whatever is on the {block} off it",
    "unstack the blocks on the {block}",
)
BACK_TO_AREA: tuple[str, ...] = (
    "put the {obj} back on the {area}",
    "take the {obj} back to the {area}",
    "the {obj} belongs on the {area}; take it back there",
    "bring the {obj} back to the {area}",
    "return the {obj} to the {area}",
)
GO_TO: tuple[str, ...] = (  # the robot moves to an area; nothing to carry
    "go to the {area}",
    "go over to the {area}",
    "move to the {area}",
    "make your way to the {area}",
    "drive over to the {area}",
    "head to the {area}",
)
# {0}: go to the area; {1}: what to do there
GO_AND: tuple[str, ...] = (
    "{0} and {1}",
    "{0}, then {1} there",
    "{0} and {1} there",
)
BACK_INTO: tuple[str, ...] = (
    "put the {obj} back in the {bowl}",
    "put the {obj} back where it belongs, in the {bowl}",
    "the {obj} goes back in the {bowl}",
    "return the {obj} to the {bowl}",
)
