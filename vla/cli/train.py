"""``vla-train``: train a VLA policy (RT-1 or RT-2) on a recorded dataset.

vla-train data=data/demos output_dir=outputs/rt1 steps=20000
vla-train policy=rt2 model.lora=true model.backbone=/path/to/llava data=data/demos
vla-train data=data/demos output_dir=outputs/rt1 resume=true     # after a crash / kill
torchrun --nproc-per-node 2 -m vla.cli.train data=data/demos output_dir=outputs/rt1

Options: :class:`vla.training.config.TrainConfig`. ``policy`` is the registered policy to
train (``rt1`` | ``rt2``; start from a checkpoint folder with ``init_from=``); the model
options of both live under ``model.*``. One run per ``output_dir`` at a time (a lock);
every checkpoint carries its resolved configuration (``train_config.json``). Bad input
ends in one line with exit code 2.
"""

from vla.cli.app import hydra_app
from vla.training.config import TrainConfig
from vla.training.loop import train

main = hydra_app("vla-train", "train", TrainConfig, train, "rerun with resume=true to continue")

if __name__ == "__main__":
    main()
