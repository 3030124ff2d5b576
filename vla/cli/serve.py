"""``vla-serve``: a policy behind ``ws://host:port`` (msgpack frames), ``GET /healthz`` too.

vla-serve                                              # bundled RT-1 on ws://127.0.0.1:8765
VLA_SERVE_API_KEY=... vla-serve policy=outputs/train/checkpoints/best host=0.0.0.0 port=9000
vla-serve host=0.0.0.0 api_key_file=~/.config/vla/serve.key     # the key from a file
vla-serve protocol=openpi port=8000              # openpi's wire format (openpi_client)

Options: :class:`vla.serve.launch.ServeConfig`; ``policy`` is a registered name or a
checkpoint folder. Bad input ends in one line with exit code 2.
"""

from vla.cli.app import hydra_app
from vla.serve.launch import ServeConfig, serve

main = hydra_app("vla-serve", "serve", ServeConfig, serve, "server stopped")

if __name__ == "__main__":
    main()
