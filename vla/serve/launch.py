"""``vla-serve``'s job: load a policy and serve it until Ctrl-C (:mod:`vla.serve.server`)."""

from __future__ import annotations

import asyncio

from omegaconf import DictConfig

from vla.policies import load_policy
from vla.serve.server import PolicyServer


def build_server(cfg: DictConfig) -> PolicyServer:
    """Load the policy and make (not start) the server ``cfg`` describes."""
    if str(cfg.policy).startswith(("ws://", "wss://")):
        raise ValueError("vla-serve serves a local policy: give a name or checkpoint folder")
    if not 0 <= int(cfg.port) <= 65535:
        raise ValueError(f"port={cfg.port} is not a TCP port (0-65535)")
    kwargs = {} if cfg.device == "cpu" else {"device": cfg.device}
    policy = load_policy(str(cfg.policy), **kwargs)
    return PolicyServer(
        policy,
        host=str(cfg.host),
        port=int(cfg.port),
        api_key=cfg.api_key,
        max_message_bytes=int(cfg.max_message_bytes),
    )


def serve(cfg: DictConfig) -> None:
    """Serve until Ctrl-C."""
    server = build_server(cfg)

    async def listen() -> None:
        port = await server.start()
        auth = " (x-api-key required)" if cfg.api_key else ""
        print(
            f"vla-serve: {server.metadata()['policy']} on ws://{cfg.host}:{port}{auth}; "
            f"health: http://{cfg.host}:{port}/healthz",
            flush=True,
        )
        await asyncio.Event().wait()

    try:
        asyncio.run(listen())
    except OSError as err:
        raise ValueError(f"cannot listen on {cfg.host}:{cfg.port}: {err.strerror}") from None
