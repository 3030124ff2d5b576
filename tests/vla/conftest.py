"""Shared fixtures for the vla tests."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Small models run fastest on one thread; 2 OpenMP threads on a busy 2-core box stall."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
