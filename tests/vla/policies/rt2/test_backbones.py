"""RT-2 on every supported VLM family, each a tiny random model built and saved in the test:
load through AutoProcessor/AutoModelForImageTextToText, train a step, save, reload, act;
constrained decoding (autoregressive and parallel) agrees with the training-time forward;
adapter-only LoRA checkpoints open with peft; unsupported folders are one-line errors."""

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForImageTextToText, GPT2Config

from vla.checkpoint import read_config
from vla.policies import RT2Policy, load_policy
from vla.policies.rt2.backbones import SUPPORTED, load_processor
from vla.policies.rt2.model import RT2, RT2Config
from vla.policies.rt2.tiny import TINY_FAMILIES, write_backbone
from vla.policies.rt2.vocab import ActionLogitsProcessor
from vla.tokenizer import N_ACTION_DIMS

FAMILIES = sorted(TINY_FAMILIES)
FAMILY_OF = {"llava": "llava", "idefics3": "idefics3", "smolvlm": "idefics3"}  # tiny -> family
FAMILY_OF |= {"paligemma": "paligemma", "qwen2_vl": "qwen2_vl", "qwen2_5_vl": "qwen2_vl"}
TEXTS = ["pick up the red block", "go to the table", "place the blue block in the red bowl"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vlms")
    return {f: write_backbone(f, root / f) for f in FAMILIES}


def images(n: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, 256, (n, 2, 3, 32, 32), dtype=np.uint8))


def observation(seed: int) -> dict:
    frames = images(1, seed)[0].permute(0, 2, 3, 1).numpy()
    return {"images": {"front": frames[0], "wrist": frames[1]}, "instruction": TEXTS[seed % 3]}


def model_type(checkpoint: Path) -> str:
    return read_config(checkpoint)["hf_config"]["model_type"]


def build(folder: Path, lora: bool = False) -> RT2:
    torch.manual_seed(0)
    config = RT2Config(backbone=str(folder), image_size=32, lora=lora, decoding="parallel")
    return RT2.build(config)


def train_step(rt2: RT2, lr: float = 1e-2) -> tuple[float, float]:
    """One SGD step on a batch of two robot steps and one co-training answer; the loss on
    that batch before and after."""
    questions = [rt2.prompt_text(TEXTS[0]), rt2.prompt_text(TEXTS[1]), "what is the robot holding?"]
    tokens = torch.tensor([[3, 40, 250, 128, 128, 128, 0, 128, 128, 128, 0]] * 2)
    tokens[1, :6] = torch.tensor([200, 17, 9, 100, 128, 64])
    answers = rt2.vocab.to_ids(tokens).tolist() + [rt2.answer_ids("the red block")]
    seq, vision = rt2.sequences(images(3), questions, answers, N_ACTION_DIMS, [True, True, False])
    rt2.train()
    optimizer = torch.optim.SGD([p for p in rt2.parameters() if p.requires_grad], lr=lr)
    loss = RT2.loss(*rt2(seq, vision), seq)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        after = RT2.loss(*rt2(seq, vision), seq).item()
    rt2.eval()
    return loss.item(), after


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_load_train_save_reload_act(family, lora, folders, tmp_path, one_thread):
    rt2 = build(folders[family], lora)
    assert rt2.family.name == FAMILY_OF[family]
    before, after = train_step(rt2)
    assert after < before
    policy = RT2Policy(model=rt2)
    checkpoint = policy.save_pretrained(tmp_path / "ckpt")
    loaded = load_policy(checkpoint)
    assert isinstance(loaded, RT2Policy) and loaded.decoding == "parallel"
    for decoding in ("autoregressive", "parallel"):
        policy.decoding = loaded.decoding = decoding
        for seed in range(2):
            action = policy.select_action(observation(seed))
            assert np.array_equal(action, loaded.select_action(observation(seed)))
            assert action.shape == (11,) and action[10] in (0, 1, 2)
    # the processor travels with it (AutoProcessor; without torchvision, its image-only twin)
    assert len(load_processor(checkpoint, model_type(checkpoint)).tokenizer) == len(rt2.tokenizer)
    if lora:
        check_adapter_only(checkpoint, folders[family], loaded)


def check_adapter_only(checkpoint: Path, base_folder: Path, loaded: RT2Policy) -> None:
    """Only adapters, new-token rows and the projector are stored, and peft opens them on
    the base folder to the same outputs."""
    from peft import PeftModel

    assert not (checkpoint / "model.safetensors").exists()
    names = load_file(str(checkpoint / "adapter_model.safetensors")).keys()
    kinds = ("lora_A", "lora_B", "trainable_tokens", f".{loaded.model.family.projector}.")
    assert names and all(any(k in n for k in kinds) for n in names), sorted(names)[:5]
    stored = (checkpoint / "adapter_model.safetensors").stat().st_size
    assert stored < 0.5 * (base_folder / "model.safetensors").stat().st_size
    base = AutoModelForImageTextToText.from_pretrained(base_folder)
    tokenizer = load_processor(checkpoint, model_type(checkpoint)).tokenizer
    base.resize_token_embeddings(len(tokenizer))
    peft_model = PeftModel.from_pretrained(base, str(checkpoint)).eval()
    rt2 = loaded.model
    seq, vision = rt2.sequences(images(2), [rt2.prompt_text(t) for t in TEXTS[:2]], [[], []])
    with torch.no_grad():
        kwargs = {"attention_mask": seq.attention_mask(), "position_ids": seq.positions}
        ours = rt2.vlm(input_ids=seq.input_ids, **kwargs, **vision).logits
        theirs = peft_model(input_ids=seq.input_ids, **kwargs, **vision).logits
    torch.testing.assert_close(ours, theirs)
    merged = RT2Policy.from_pretrained(checkpoint, merge_adapters=True, decoding="autoregressive")
    loaded.decoding = "autoregressive"
    np.testing.assert_allclose(
        merged.select_action(observation(0)), loaded.select_action(observation(0)), atol=0.05
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_decoding_agrees_with_the_training_forward(family, folders, one_thread):
    rt2 = build(folders[family]).eval()
    train_step(rt2, lr=1e-2)  # away from the initialisation's near-ties
    pictures, questions = images(3, seed=1), [rt2.prompt_text(t) for t in TEXTS]
    with torch.no_grad():
        # autoregressive: the cached greedy tokens are the argmax of one uncached forward over them
        ids = rt2.generate_action_ids(pictures, TEXTS, "autoregressive")
        seq, vision = rt2.sequences(pictures, questions, ids.tolist())
        answer_logits, _ = rt2(seq, vision)
        constrained = ActionLogitsProcessor(rt2.vocab, 0).constrain_all(answer_logits.float())
        assert torch.equal(constrained.argmax(-1).cpu(), ids)
        # parallel: slots never see the answer block, so its content cannot change them
        seq_empty, vision = rt2.sequences(pictures, questions, [[]] * 3, N_ACTION_DIMS)
        seq_full, _ = rt2.sequences(pictures, questions, ids.tolist(), N_ACTION_DIMS)
        torch.testing.assert_close(rt2(seq_empty, vision)[1], rt2(seq_full, vision)[1])
        # left padding changes nothing: batch rows equal the rows alone
        for decoding in ("autoregressive", "parallel"):
            batch = rt2.generate_action_ids(pictures, TEXTS, decoding)
            assert rt2.vocab.invalid_count(batch) == 0
            alone = [
                rt2.generate_action_ids(pictures[i : i + 1], TEXTS[i : i + 1], decoding)
                for i in range(3)
            ]
            assert torch.equal(torch.cat(alone), batch)


def test_unsupported_and_missing_backbones_are_one_line_errors(tmp_path):
    GPT2Config(n_layer=1, n_embd=8, n_head=2).save_pretrained(tmp_path / "gpt2")
    with pytest.raises(ValueError, match="supports these VLM families") as err:
        RT2.build(RT2Config(backbone=str(tmp_path / "gpt2")))
    assert SUPPORTED in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError, match="is not a Hugging Face model folder") as err:
        RT2.build(RT2Config(backbone=str(tmp_path / "nothing")))
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="model.lora needs model.backbone"):
        RT2Config(lora=True)


def test_lora_checkpoint_checks_its_base_model(folders, tmp_path, one_thread):
    policy = RT2Policy(model=build(folders["llava"], lora=True))
    checkpoint = policy.save_pretrained(tmp_path / "ckpt")
    moved = write_backbone("llava", tmp_path / "moved")  # the same base, elsewhere
    reference = policy.select_action(observation(0))
    loaded = RT2Policy.from_pretrained(checkpoint, base_model=str(moved))
    assert np.array_equal(loaded.select_action(observation(0)), reference)
    other = write_backbone("llava", tmp_path / "other", seed=1)
    (other / "config.json").write_text((other / "config.json").read_text().replace("32", "33", 1))
    with pytest.raises(ValueError, match="differs from the base model") as err:
        RT2Policy.from_pretrained(checkpoint, base_model=str(other))
    assert "\n" not in str(err.value)
