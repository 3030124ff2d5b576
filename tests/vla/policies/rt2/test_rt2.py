"""RT-2 (small from-scratch configuration): action vocabulary, constrained decoding in both
modes, checkpoints, no silent random model, simulator, co-training data, vla-train."""

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from vla.checkpoint import load_checkpoint, read_config
from vla.data.recording import RecordConfig, record
from vla.options import build
from vla.policies import RT2Policy, load_policy
from vla.policies.rt2.model import RT2, RT2Config
from vla.policies.rt2.scene_vqa import episode_pairs
from vla.policies.rt2.text import build_word_tokenizer
from vla.policies.rt2.tiny import write_backbone
from vla.policies.rt2.vocab import (
    MODE_TOKENS,
    ActionLogitsProcessor,
    ActionVocab,
    add_action_tokens,
)
from vla.tokenizer import NormStats
from vla.training.config import TrainConfig
from vla.training.loop import train

TINY = dict(image_size=32, patch_size=16, vision_dim=32, vision_layers=1, text_dim=32)
TINY |= dict(text_layers=1, n_heads=2, decoding="parallel")


@pytest.fixture(scope="module")
def model() -> RT2:
    torch.manual_seed(0)
    return RT2.build(RT2Config(**TINY)).eval()


def observation(seed: int, size: int = 32) -> dict:
    rng = np.random.default_rng(seed)
    images = {n: rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for n in ("front", "wrist")}
    return {
        "images": images,
        "state": np.zeros(10, np.float32),
        "instruction": "pick up the red block",
    }


def test_action_vocabulary_round_trip():
    tokenizer = build_word_tokenizer()
    n_text = len(tokenizer)
    assert add_action_tokens(tokenizer) == 259 and add_action_tokens(tokenizer) == 0
    vocab = ActionVocab.from_tokenizer(tokenizer, len(tokenizer))
    assert vocab.bin_ids.min() >= n_text  # new ids, after every text token
    tokens = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (500, 11)))
    tokens[:, 10] = tokens[:, 10] % 3
    ids = vocab.to_ids(tokens)
    assert torch.equal(vocab.from_ids(ids), tokens)
    assert tokenizer.convert_ids_to_tokens(ids[0, 10].item()) == MODE_TOKENS[tokens[0, 10]]
    text = tokenizer.decode(ids[0])  # the action as text, and back through the tokenizer
    assert tokenizer(text, add_special_tokens=False).input_ids == ids[0].tolist()
    with pytest.raises(ValueError, match="not a valid action token"):
        vocab.from_ids(ids[:1].flip(-1))  # a mode id at position 0


def test_logits_processor_masks_exactly_the_invalid_ids(model):
    vocab, width = model.vocab, model.vocab.vocab_size
    processor = ActionLogitsProcessor(vocab, prompt_length=7)
    bins, modes = set(vocab.bin_ids.tolist()), set(vocab.mode_ids.tolist())
    for position in range(11):
        scores = torch.randn(3, width)
        out = processor(torch.zeros(3, 7 + position, dtype=torch.long), scores)
        for row in range(3):
            kept = set(torch.isfinite(out[row]).nonzero().flatten().tolist())
            assert kept == (modes if position == 10 else bins)
            assert torch.equal(out[row][list(kept)], scores[row][list(kept)])
    scores = torch.randn(2, 11, width)  # parallel decoding: all 11 positions at once
    out = processor.constrain_all(scores)
    for position in range(11):
        kept = set(torch.isfinite(out[1, position]).nonzero().flatten().tolist())
        assert kept == (modes if position == 10 else bins)


@pytest.mark.parametrize("decoding", ["autoregressive", "parallel"])
def test_constrained_generation_has_no_invalid_tokens(model, decoding, one_thread):
    torch.manual_seed(1)
    images = torch.randint(0, 256, (64, 2, 3, 32, 32), dtype=torch.uint8)
    texts = ["pick up the red block", "go to the table", "place the blue block in the red bowl"]
    ids = model.generate_action_ids(images, [texts[i % 3] for i in range(64)], decoding)
    assert ids.shape == (64, 11) and model.vocab.invalid_count(ids) == 0
    first = model.generate_action_ids(images[:1], texts[:1], decoding)  # batch 1 = row 0
    assert torch.equal(first, ids[:1])


def test_no_silent_random_model():
    from vla.evaluation.episode import make_policy

    for make in (lambda: load_policy("rt2"), lambda: make_policy("rt2")):  # vla-eval policy=rt2
        with pytest.raises(ValueError, match="trained RT-2 checkpoint folder") as err:
            make()
        assert "\n" not in str(err.value) and "backbone" in str(err.value)
    autoregressive = RT2Policy(RT2Config(**TINY | {"decoding": "autoregressive"}))
    with pytest.raises(ValueError, match="decoding=parallel"):
        RT2Policy(model=autoregressive.model, decoding="parallel")


def test_save_load_round_trip_and_registry(tmp_path):
    torch.manual_seed(0)
    stats = NormStats(q01=-np.arange(1, 11) / 10, q99=np.arange(1, 11) / 10)
    policy = RT2Policy(RT2Config(**TINY), stats)
    folder = policy.save_pretrained(tmp_path / "rt2")
    loaded = load_policy(folder)
    assert isinstance(loaded, RT2Policy)
    for seed in range(3):
        assert np.array_equal(
            policy.select_action(observation(seed)), loaded.select_action(observation(seed))
        )
    assert loaded.model.tokenizer.get_vocab() == policy.model.tokenizer.get_vocab()
    bf16 = load_policy(folder, dtype="bfloat16", decoding="autoregressive")  # AMX on CPU
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    action = bf16.select_action(observation(0))
    assert action.shape == (11,) and action.dtype == np.float32 and action[10] in (0, 1, 2)


def test_runs_a_fixed_seed_episode_in_the_simulator(model):
    from sim.env import VLAEnv

    policy = RT2Policy(model=model)

    def episode() -> list[np.ndarray]:
        env = VLAEnv("tabletop", image_size=32)
        try:
            obs, _ = env.reset(seed=3)
            policy.reset()
            actions = []
            for _ in range(4):
                actions.append(policy.select_action(obs))
                obs, _reward, terminated, truncated, _info = env.step(actions[-1])
                assert not truncated
                if terminated:
                    break
            return actions
        finally:
            env.close()

    first, second = episode(), episode()
    assert len(first) >= 1 and all(a.shape == (11,) and a[10] in (0, 1, 2) for a in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_vqa_pairs_from_a_recorded_episode():
    record = {"episode_id": 4, "n_steps": 30, "success": True}
    pairs = episode_pairs(record | {"instruction": "place the red block in the blue bowl"})
    assert (4, 29, "which bowl is the red block in?", "the blue bowl") in pairs
    assert (4, 0, "what is the robot holding?", "the red block") in pairs
    assert episode_pairs(record | {"instruction": "pick up the red block", "success": False}) == []


@pytest.fixture(scope="module")
def rt2_dataset(tmp_path_factory) -> Path:
    """Four real expert demos of the `single` suite at 32 px (a few seconds)."""
    path = tmp_path_factory.mktemp("demos")
    spec = {"suites": ["single"], "episodes_per_suite": 4, "split": "train"}
    record(RecordConfig(**spec, image_size=32, output_dir=str(path)))
    return path


def train_cfg(data: Path, out: Path, model: dict, **overrides) -> TrainConfig:
    return build(
        TrainConfig,
        {"policy": "rt2", "model": model, "data": str(data), "output_dir": str(out)}
        | {"batch_size": 4, "lr": 3e-3, "warmup_steps": 3, "image_size": 32}
        | {"log_every": 5, "val_fraction": 0.25, "max_val_batches": 2}
        | overrides,
    )


def test_train_app_lowers_the_loss_and_checkpoints_load(tmp_path, rt2_dataset, one_thread):
    sizes = {k: v for k, v in TINY.items() if k != "image_size"}
    overrides = {"steps": 30, "checkpoint_every": 15, "grad_accum_steps": 2, "precision": "bf16"}
    result = train(train_cfg(rt2_dataset, tmp_path / "run", sizes, cotrain_ratio=0.2, **overrides))
    with (tmp_path / "run" / "metrics.csv").open() as f:
        losses = {
            int(r["step"]): float(r["train_loss"]) for r in csv.DictReader(f) if r["train_loss"]
        }
    assert result["step"] == 30 and losses[30] < 0.8 * losses[5]
    policy = load_policy(tmp_path / "run" / "checkpoints" / "best")
    assert isinstance(policy, RT2Policy) and policy.decoding == "parallel"
    assert next(policy.model.parameters()).dtype == torch.float32  # fp32 master weights
    for decoding in ("parallel", "autoregressive"):
        policy.decoding = decoding
        assert policy.select_action(observation(0)).shape == (11,)


def test_train_app_lora_keeps_adapters_only_and_resumes(tmp_path, rt2_dataset, one_thread):
    base = write_backbone("llava", tmp_path / "base")
    lora = {"backbone": str(base), "lora": True, "lora_rank": 4}
    out = tmp_path / "run"
    train(train_cfg(rt2_dataset, out, lora, steps=4, lr_decay_steps=6, checkpoint_every=2))
    train(train_cfg(rt2_dataset, out, lora, steps=6, checkpoint_every=2, resume=True))
    last = out / "checkpoints" / "last"
    assert (last / "adapter_model.safetensors").is_file()
    assert not (last / "model.safetensors").exists() and (last / "train_config.json").is_file()
    assert read_config(last)["base_model"]["path"] == str(base)
    assert load_checkpoint(last, with_training_state=True).training_state["step"] == 6
    loaded = load_policy(last)
    assert loaded.model.config.lora and loaded.select_action(observation(0)).shape == (11,)
