"""RT-1's forward pass for closed-loop inference, traced once with TorchScript.

A closed loop calls the model once a step on one observation. Eager PyTorch then spends about
as long in Python (module calls, shape checks, the attention's reshapes) as in arithmetic;
the traced graph runs the same operations on the same weights without it. It holds the
model's parameters themselves, not copies, so weights loaded later (``load_state_dict``) are
the ones it uses. A new trace is made when an input's shape changes. The actions are the
eager model's, bit for bit (``tests/vla/policies/rt1/test_traced.py``). Hooks registered on
the model's modules do not run in the traced pass: set ``policy.traced = False`` to use them.

PyTorch 2.13 marks ``torch.jit.trace`` deprecated; its successors do not serve here
(``torch.export``'s graph module ran no faster than eager, ``torch.compile`` needs a C++
compiler on the user's machine). Where tracing fails or is gone, the eager model runs, with
the same actions. Figures: the RT-1 model card ("Speed").
"""

from __future__ import annotations

import logging
import warnings

import torch
from torch import nn

log = logging.getLogger(__name__)
Shapes = tuple[tuple[int, ...], ...]


class _Call(nn.Module):
    """The model called as the policy calls it, with tensors only (what tracing needs)."""

    def __init__(self, model: nn.Module, want_goal: bool, with_state: bool) -> None:
        super().__init__()
        self.model, self.want_goal, self.with_state = model, want_goal, with_state

    def forward(self, frames: torch.Tensor, text: torch.Tensor, states: torch.Tensor):
        return self.model(frames, text, states if self.with_state else None, self.want_goal)


class TracedForward:
    """``model(frames, text, states, want_goal)`` in eval mode, traced on first use.

    Args:
        model: an ``RT1`` (its ``forward(frames, text, states, want_goal)``).
        want_goal: passed to every call (the goal head's output too).
        enabled: False runs the eager model always (as on a GPU, where tracing gains little).
    """

    def __init__(self, model: nn.Module, want_goal: bool, enabled: bool = True) -> None:
        self.model, self.want_goal, self.enabled = model, want_goal, enabled
        self._traced: torch.jit.ScriptModule | None = None
        self._shapes: Shapes | None = None

    def __call__(self, frames: torch.Tensor, text: torch.Tensor, states: torch.Tensor | None):
        if not self.enabled or self.model.training:
            return self.model(frames, text, states, self.want_goal)
        state = states if states is not None else torch.zeros(1)
        shapes = (tuple(frames.shape), tuple(text.shape), tuple(state.shape))
        if shapes != self._shapes:
            self._trace(frames, text, state, states is not None)
            self._shapes = shapes
        if self._traced is None:
            return self.model(frames, text, states, self.want_goal)
        return self._traced(frames, text, state)

    def _trace(self, frames, text, state, with_state: bool) -> None:
        call = _Call(self.model, self.want_goal, with_state)
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the shape checks
                warnings.simplefilter("ignore", DeprecationWarning)  # see the module docstring
                self._traced = torch.jit.trace(call, (frames, text, state), check_trace=False)
        except (AttributeError, RuntimeError, TypeError) as err:  # gone, or an op it cannot record
            log.warning("RT-1 runs eagerly: tracing its forward pass failed (%s)", err)
            self.enabled, self._traced = False, None
