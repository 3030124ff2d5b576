from vla.planning.opposites import clashes, marks, negated


def count(instruction: str, candidate: str) -> int:
    return clashes(marks(instruction), marks(candidate))


def test_negation_words_and_not_their_lookalikes():
    assert negated("make sure nothing is on it") and negated("the block mustn't stay there")
    assert not negated("put the block on the knot") and not negated("take the note")
    assert count("make sure the red block is no longer on the green block",
                 "make sure the red block is on the green block") == 1  # fmt: skip
    assert count("keep the red block off the green bowl", "do not put it in the bowl") == 1


def test_an_antonym_the_instruction_does_not_say_is_a_clash():
    tower = "build a tower of the red block and the green block"
    assert count(f"{tower} from the top downwards", f"{tower} from the bottom up") == 1
    assert count(f"{tower} from the top downwards", f"{tower}, listed from the top down") == 0
    # saying both poles is no clash: "put the red block on top, the green block at the bottom"
    assert count("the red block on top and the green block at the bottom", "at the top") == 0
    assert count("before you stack it, clear it", "after you stack it, clear it") == 1
    assert count("the block nearest to you", "the block furthest from you") == 1
    assert count("put the red block on top of the green block", "put it on the green one") == 0


def test_a_reversing_prefix_is_a_clash_and_every_kind_counts_once():
    assert count("unstack the blocks on the red block", "stack the blocks on the red block") == 1
    assert count("stack the red block on the green block", "unstack the green block") == 1
    assert count("unstack the blocks on the red block", "clear the top of the red block") == 0
    assert count("unload the bowl", "load the bowl and unload it") == 0
    # negated and an antonym: two, however many antonyms
    assert count("don't put it at the back, first", "put it at the front, last") == 2
