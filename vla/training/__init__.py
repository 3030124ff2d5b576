"""The training loop every policy shares (``loop``: ``vla-train``), its data pipeline
(``data``), checks during training (``checks``) and process setup (``setup``). Each policy
brings its own trainer (``vla/policies/<name>/trainer.py``)."""
