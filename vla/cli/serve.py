"""``vla-serve``: a policy behind ``ws://host:port`` (msgpack frames), ``GET /healthz`` too.

vla-serve                                              # bundled RT-1 on ws://127.0.0.1:8765
VLA_SERVE_API_KEY=... vla-serve policy=outputs/train/checkpoints/best host=0.0.0.0 port=9000
vla-serve host=0.0.0.0 api_key_file=~/.config/vla/serve.key     # the key from a file
"""

from __future__ import annotations

import asyncio
import sys

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.policies import load_policy
from vla.serve.auth import resolve_api_key
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
        api_key=resolve_api_key(cfg.api_key, cfg.get("api_key_file")),
        max_message_bytes=int(cfg.max_message_bytes),
        max_connections=int(cfg.max_connections),
        read_timeout_s=float(cfg.read_timeout_s),
        idle_timeout_s=float(cfg.idle_timeout_s),
    )


def run(cfg: DictConfig) -> None:
    """Serve until Ctrl-C."""
    server = build_server(cfg)
    if cfg.api_key:
        print(
            "vla-serve: warning: api_key= on the command line is visible to every user (ps); "
            "prefer VLA_SERVE_API_KEY or api_key_file=",
            file=sys.stderr,
        )

    async def serve() -> None:
        port = await server.start()
        auth = " (x-api-key required)" if server.api_key else ""
        print(
            f"vla-serve: {server.metadata()['policy']} on ws://{cfg.host}:{port}{auth}; "
            f"health: http://{cfg.host}:{port}/healthz",
            flush=True,
        )
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except OSError as err:
        raise ValueError(f"cannot listen on {cfg.host}:{cfg.port}: {err.strerror}") from None


@hydra.main(config_path="../../configs", config_name="serve", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-serve", run, cfg, on_interrupt="server stopped")


if __name__ == "__main__":
    main()
