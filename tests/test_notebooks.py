"""The quickstart notebook runs top to bottom in a fresh kernel and shows what it promises."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"
# What a reader sees without running it: no warnings, progress bars or local paths.
UNCLEAN = re.compile(
    r"warning|deprecat|it/s\]|site-packages|\.venv|/home/|/root/|/tmp/|/work/", re.IGNORECASE
)


def saved_output_texts(nb) -> list[str]:
    """The text of every saved output: streams, the text parts of rich outputs, tracebacks."""
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            data = output.get("data", {})
            texts += [str(v) for k, v in data.items() if k.startswith("text/")]
            texts += output.get("traceback", [])
    return texts


def test_quickstart_saved_outputs_are_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert outputs and not [o for o in outputs if o.output_type == "error"]
    lines = [line for text in saved_output_texts(nb) for line in text.splitlines()]
    assert any(line.startswith("goal reached:") for line in lines)  # saved from a whole run
    assert not [line for line in lines if UNCLEAN.search(line)]


@pytest.mark.slow
def test_quickstart_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "step 1:" in text and "goal reached:" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # cameras, scores, key frames
