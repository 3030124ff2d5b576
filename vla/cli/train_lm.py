"""``vla-train-lm``: train the bundled SayCan LM.

vla-train-lm output_dir=vla/assets/saycan_lm steps=1500

Options: :class:`vla.planning.lm.train_lm.LMTrainConfig`; bad input ends in one line, exit
code 2.
"""

from vla.cli.app import hydra_app
from vla.planning.lm.train_lm import LMTrainConfig, train_lm

main = hydra_app("vla-train-lm", "train_lm", LMTrainConfig, lambda cfg: print(train_lm(cfg)))

if __name__ == "__main__":
    main()
