"""Building a world prints nothing: pybullet's start-up lines are silenced at the source."""

import subprocess
import sys


def test_a_new_world_prints_nothing():
    code = "from sim.world import SimWorld; SimWorld('tabletop'); print('done')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "done\n" and out.stderr == ""
