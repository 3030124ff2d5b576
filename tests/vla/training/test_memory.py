"""keep_freed_memory: large blocks a step frees are reused instead of faulted in again."""

import subprocess
import sys

import pytest

STEPS = """
import resource, sys
import numpy as np
from vla.training.memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
sizes = [(1 << 18) * (i % 7 + 1) + 4096 * i for i in range(40)]  # 0.25-2 MiB, mixed

def step():  # allocate and touch a step's worth of blocks, then free them all
    held = [np.ones(n, np.uint8) for n in sizes]
    del held

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    default, kept = page_faults("default"), page_faults("keep")
    assert default > 2000  # glibc's default maps and unmaps these blocks every step
    assert kept < default / 10
