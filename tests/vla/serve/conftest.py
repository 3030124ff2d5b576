"""Loopback servers for the serve tests (ephemeral ports, stopped after each test)."""

import threading
import time

import numpy as np
import pytest

from vla.serve import PolicyServer


class EchoPolicy:
    """Action[0] = state[0], action[1] = calls so far; ``delay_s`` per call, or blocks on
    ``stall`` while it is set."""

    policy_name = "echo"

    def __init__(self, delay_s: float = 0.0):
        self.delay_s, self.calls, self.resets = delay_s, 0, 0
        self.stall = threading.Event()
        self.release = threading.Event()

    def reset(self):
        self.resets += 1

    def select_action(self, observation):
        self.calls += 1
        if self.stall.is_set():
            self.release.wait(5.0)
        time.sleep(self.delay_s)
        action = np.zeros(11, np.float32)
        action[0], action[1] = observation["state"][0], self.calls
        return action


def observation(value: float = 0.0, size: int = 16) -> dict:
    state = np.zeros(10, np.float32)
    state[0] = value
    image = np.zeros((size, size, 3), np.uint8)
    return {
        "images": {"front": image, "wrist": image.copy()},
        "state": state,
        "instruction": "pick up the red block",
    }


@pytest.fixture
def serve():
    """serve(policy, **kwargs) -> (server, port); every server is stopped at teardown."""
    servers = []

    def start(policy, **kwargs):
        server = PolicyServer(policy, port=0, **kwargs)
        servers.append(server)
        return server, server.start_in_thread()

    yield start
    for server in servers:
        getattr(server.policy, "release", threading.Event()).set()
        server.stop()


@pytest.fixture
def make_obs():
    """make_obs(value=0.0, size=16) -> an observation of the contract."""
    return observation


@pytest.fixture
def echo():
    """The EchoPolicy class."""
    return EchoPolicy
