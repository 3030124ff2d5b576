"""The import rule: ``sim`` imports nothing of ours; ``planners`` only ``sim.registry``."""

import subprocess
import sys

import pytest

SIM_MODULES = "sim.env, sim.expert, sim.rollout, sim.perturb, sim.tasks.oracle, sim.contract"


def loaded_after(statement: str) -> set[str]:
    """Our modules (sim, planners, vla) in sys.modules after ``statement``, in a fresh process."""
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m for m in out.stdout.split() if m.split(".")[0] in ("sim", "planners", "vla")}


@pytest.mark.parametrize(
    "statement,allowed",
    [
        (f"import {SIM_MODULES}", ("sim",)),
        ("import planners, planners.hf_scorer", ("planners", "sim", "sim.registry", "sim.seeds")),
    ],
)
def test_lower_layers_import_nothing_above_them(statement, allowed):
    loaded = loaded_after(statement)
    bad = {m for m in loaded if m not in allowed and not m.startswith(f"{allowed[0]}.")}
    assert not bad, f"{statement!r} imported {sorted(bad)}"
