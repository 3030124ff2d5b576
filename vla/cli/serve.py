"""``vla-serve``: a policy behind ``ws://host:port`` (msgpack frames), ``GET /healthz`` too.

vla-serve                                              # bundled RT-1 on ws://127.0.0.1:8765
vla-serve policy=outputs/train/checkpoints/best host=0.0.0.0 port=9000 api_key=secret
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.serve.launch import serve


@hydra.main(config_path="../../configs", config_name="serve", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-serve", serve, cfg, on_interrupt="server stopped")


if __name__ == "__main__":
    main()
