"""RT-2 (Brohan et al. 2023), whole in one folder: a Hugging Face vision-language model
(``model``) that answers with action tokens (``vocab``), its offline text tokenizer
(``text``), the closed-loop policy (``policy``) and its training side (``trainer``, with
``scene_vqa`` co-training data)."""

from vla.policies.rt2.policy import RT2Policy

__all__ = ["RT2Policy"]
