"""``vla-serve``'s job: load a policy and serve it until Ctrl-C in one of the registered wire
protocols: ``native`` (:mod:`vla.serve.server`) or ``openpi`` (:mod:`vla.serve.openpi_server`)."""

from __future__ import annotations

import asyncio
import math
import sys
from dataclasses import dataclass

from sim.registry import Registry
from vla.options import at_least, positive
from vla.policies import load_policy
from vla.serve.auth import resolve_api_key
from vla.serve.openpi_server import OpenPIPolicyServer
from vla.serve.protocol import MAX_CHUNK, MAX_MESSAGE_BYTES
from vla.serve.server import PolicyServer

PROTOCOLS: Registry[type[PolicyServer]] = Registry("serve protocol")
PROTOCOLS.add("native", PolicyServer)
PROTOCOLS.add("openpi", OpenPIPolicyServer)


@dataclass
class ServeConfig:
    """Options of ``vla-serve`` (configs/serve.yaml)."""

    policy: str = "rt1"  # registered name or checkpoint folder (not a ws:// URL)
    protocol: str = "native"  # wire format: native (vla.serve.client) or openpi (openpi_client)
    chunk: int = 1  # protocol=openpi: actions per answer (H); native clients ask per request
    host: str = "127.0.0.1"  # 0.0.0.0 to accept other machines (set api_key then)
    port: int = 8765  # 0: any free port
    # clients must send header x-api-key: <key>. A key on the command line is visible to
    # every user (ps): prefer api_key_file or the environment variable VLA_SERVE_API_KEY.
    api_key: str | None = None
    api_key_file: str | None = None  # a file holding the key (read when the server starts)
    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_connections: int = 8  # open connections at most, handshakes included; the rest get 503
    read_timeout_s: float = 10.0  # a handshake or message must arrive whole this soon
    idle_timeout_s: float = 60.0  # a connection with no message for this long is closed
    device: str = "cpu"  # torch device of the policy
    output_dir: str = "outputs/serve"  # Hydra's record of each start (.hydra/, vla-serve.log)

    def __post_init__(self) -> None:
        if self.policy.startswith(("ws://", "wss://")):
            raise ValueError(
                f"policy={self.policy}: vla-serve serves a local policy; "
                "give a name or checkpoint folder"
            )
        PROTOCOLS.get(self.protocol)  # unknown protocol: a one-line error before loading
        if self.protocol == "openpi" and not 1 <= self.chunk <= MAX_CHUNK:
            raise ValueError(f"chunk={self.chunk}: give 1 to {MAX_CHUNK} actions per answer")
        if self.protocol != "openpi" and self.chunk != 1:
            raise ValueError("chunk= is for protocol=openpi; native clients ask per request")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port={self.port} is not a TCP port (0-65535)")
        at_least(self, 1, "max_message_bytes", "max_connections")
        positive(self, "read_timeout_s", "idle_timeout_s")
        for name in ("read_timeout_s", "idle_timeout_s"):
            if math.isinf(getattr(self, name)):
                raise ValueError(f"{name}=inf: give a finite number of seconds")


def build_server(cfg: ServeConfig) -> PolicyServer:
    """Load the policy and make (not start) the server ``cfg`` describes."""
    api_key = resolve_api_key(cfg.api_key, cfg.api_key_file)  # a bad key file: before loading
    kwargs = {} if cfg.device == "cpu" else {"device": cfg.device}
    policy = load_policy(cfg.policy, **kwargs)
    extra = {"chunk": cfg.chunk} if cfg.protocol == "openpi" else {}
    return PROTOCOLS.get(cfg.protocol)(
        policy,
        **extra,
        host=cfg.host,
        port=cfg.port,
        api_key=api_key,
        max_message_bytes=cfg.max_message_bytes,
        max_connections=cfg.max_connections,
        read_timeout_s=cfg.read_timeout_s,
        idle_timeout_s=cfg.idle_timeout_s,
    )


def serve(cfg: ServeConfig) -> None:
    """Serve until Ctrl-C."""
    server = build_server(cfg)
    if cfg.api_key:
        print(
            "vla-serve: warning: api_key= on the command line is visible to every user (ps); "
            "prefer VLA_SERVE_API_KEY or api_key_file=",
            file=sys.stderr,
        )

    async def listen() -> None:
        port = await server.start()
        header = "Authorization: Api-Key" if cfg.protocol == "openpi" else "x-api-key"
        auth = f" ({header} required)" if server.api_key else ""
        print(
            f"vla-serve: {server.metadata()['policy']} ({cfg.protocol} protocol) on "
            f"ws://{cfg.host}:{port}{auth}; "
            f"health: http://{cfg.host}:{port}/healthz",
            flush=True,
        )
        await asyncio.Event().wait()

    try:
        asyncio.run(listen())
    except OSError as err:
        raise ValueError(f"cannot listen on {cfg.host}:{cfg.port}: {err.strerror}") from None
