"""``vla-serve protocol=openpi``: the policy server speaking openpi's websocket protocol.

openpi's ``WebsocketClientPolicy`` (or any client of its wire format, :mod:`vla.serve.openpi_wire`)
drives our policy: metadata on connect, an observation map per request, ``actions`` (H, 11)
and ``server_timing`` per answer, errors as one text frame. The API key travels as openpi's
client sends it, the handshake header ``Authorization: Api-Key <key>`` (``x-api-key: <key>``
works too).

Everything else is the native server's (:class:`vla.serve.server.PolicyServer`): message
size and image side limits, connection, time and memory bounds, inference on one thread off
the event loop, one controlling connection at a time, a superseded request never answered.
Two differences follow from openpi's protocol: the connection that takes control resets the
policy (a new client is a new episode; openpi's client has no reset message), and an error
answer does not close the connection (openpi's own server closes it; its client raises on the
text frame either way, and a robot loop can keep going).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from websockets.http11 import Request

from vla.serve.auth import same_key
from vla.serve.guard import GuardedConnection
from vla.serve.openpi_wire import contract_observation, pack_openpi, unpack_openpi
from vla.serve.protocol import MAX_CHUNK, MAX_ERROR_CHARS, ProtocolError
from vla.serve.server import PolicyServer, log

AUTHORIZATION_SCHEME = "Api-Key "


class OpenPIPolicyServer(PolicyServer):
    """:class:`PolicyServer` with openpi's wire format; ``chunk`` actions per answer (H).

    Args:
        policy, **kwargs: as :class:`PolicyServer`.
        chunk: actions per answer; above 1 the policy needs ``select_action_chunk``.
    """

    unauthorized_text = "missing or wrong Authorization: Api-Key header\n"

    def __init__(self, policy: Any, chunk: int = 1, **kwargs: Any) -> None:
        if not 1 <= chunk <= MAX_CHUNK:
            raise ValueError(f"chunk={chunk}: give 1 to {MAX_CHUNK} actions per answer")
        if chunk > 1 and not hasattr(policy, "select_action_chunk"):
            raise ValueError(f"chunk={chunk}: this policy predicts one action per step; use 1")
        super().__init__(policy, **kwargs)
        self.chunk = chunk

    def metadata(self) -> dict[str, Any]:
        """Ours, with openpi's ``action_horizon`` and the observation keys it takes."""
        return {
            **super().metadata(),
            "protocol": "openpi",
            "action_horizon": self.chunk,
            "observation_keys": ["images/front", "images/wrist", "state", "prompt"],
        }

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.api_key and header.startswith(AUTHORIZATION_SCHEME):
            return same_key(header[len(AUTHORIZATION_SCHEME) :].strip(), self.api_key)
        return super().authorized(request)

    def encode(self, message: dict[str, Any] | str) -> bytes | str:
        return message if isinstance(message, str) else pack_openpi(message)

    async def _serve(self, connection: GuardedConnection, frame: bytes | str) -> None:
        received = time.perf_counter()
        await super()._serve(connection, frame)
        connection.prev_total_ms = (time.perf_counter() - received) * 1000

    async def _reply(self, connection: GuardedConnection, frame: bytes | str) -> dict | str:
        try:
            observation, reset = contract_observation(
                unpack_openpi(frame, self.max_message_bytes), self.max_image_side
            )
            if self.guard.controller not in (None, connection):
                raise ProtocolError(
                    "another connection controls this policy (one robot per server); it is "
                    "released when that connection closes"
                )
            if self.guard.controller is None:  # a new client starts a new episode
                self.guard.take_control(connection)
                reset = True
            if reset:
                await self._run(self.policy.reset)
            start = time.perf_counter()
            actions = await self._run(self._infer, observation, self.chunk)
        except ProtocolError as err:
            return self._error(str(err))
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the policy failed: tell the client, keep serving
            if self.errors_log.allow("policy error"):
                log.exception("policy error")
            return self._error(f"policy failed: {type(err).__name__}: {err}")
        self.stats["requests"] += 1
        timing = {"infer_ms": (time.perf_counter() - start) * 1000}
        previous = getattr(connection, "prev_total_ms", None)
        if previous is not None:
            timing["prev_total_ms"] = previous
        return {"actions": actions, "server_timing": timing}

    def _error(self, text: str) -> str:
        self.stats["errors"] += 1
        text = f"vla-serve: {text}"
        return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."
