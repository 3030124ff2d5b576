"""Train the bundled SayCan LM: a tiny GPT-2 on the planning corpus (``vla-train-lm``).

A byte-level BPE tokenizer is trained on the corpus text (``tokenizers``; saved as a
``PreTrainedTokenizerFast`` so ``AutoTokenizer`` loads it), then a small ``GPT2LMHeadModel``
learns to write the skills: the loss covers only the successful skill lines and ``done``
(see :func:`vla.planning.lm.corpus.render`), not the instruction or the failed skills. The folder is
saved with ``save_pretrained`` and loads like any Hugging Face causal LM.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
from transformers.models.gpt2.modeling_gpt2 import GPT2Block

from planners.hf_scorer import load_local_lm
from sim.tasks.spec import BUILTIN_SUITES
from vla.language import DEFAULT_ENCODER
from vla.options import at_least, in_range, one_of, positive
from vla.planning.grounding import corpus_words, read_words
from vla.planning.lm import WORDS_FILE
from vla.planning.lm.chain_tasks import chain_starts
from vla.planning.lm.corpus import generate_tasks, make_episode, render
from vla.planning.lm.twins import held_twin, relabel_twin
from vla.planning.sentences import TrainedInstructions, corpus_instructions
from vla.planning.splits import TRAINED_CONSTRUCTIONS
from vla.planning.word_pairs import WordPairs
from vla.training.config import PRECISIONS
from vla.training.memory import keep_freed_memory
from vla.training.setup import lr_factor, precision_note

SPECIAL = "<|endoftext|>"


@dataclass
class LMTrainConfig:
    """Options of ``vla-train-lm`` (configs/train_lm.yaml extends this schema)."""

    output_dir: str = "outputs/saycan_lm"
    steps: int = 1500  # optimizer steps
    batch_size: int = 32  # episodes per step
    lr: float = 2e-3  # peak, after warmup; cosine decay to lr / 10
    warmup_steps: int = 100
    weight_decay: float = 0.01
    tasks_per_family: int = 2000  # train tasks drawn per task family
    # tasks_per_family is multiplied by these per family (e.g. {structured: 3}): more of
    # the multi-step families, which the small LM finds hardest; missing families get 1
    family_weights: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(BUILTIN_SUITES, 1.0)
    )
    # the language family's count is further multiplied per construction (e.g. {swap: 2})
    construction_weights: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(TRAINED_CONSTRUCTIONS, 1.0)
    )
    p_failure: float = 0.3  # share of episodes with one failed skill and its recovery
    # scene feedback after every skill in the corpus; recorded in training.json, where the
    # SayCan runner reads it (planner.feedback=None: prompt as trained)
    feedback: bool = True
    # add the relabel twin (vla.planning.lm.twins) of every task that names blocks by where
    # they are: the same instruction with two unnamed blocks traded in start and goal
    relabel_twins: bool = False
    # one-goal tasks that start where 1-4 earlier ones left the world (vla-eval mode=chain's
    # starts: stacks, blocks in bowls and at corners), added to the corpus
    chain_tasks: int = 0
    vocab_size: int = 600  # BPE vocabulary, special token included
    n_layer: int = 3  # a model continued with init_from grows to this many blocks (never shrinks)
    n_embd: int = 128
    n_head: int = 4
    # context length; episodes with scene feedback after each skill run to ~800 tokens. A
    # model continued with init_from grows its position table to this (never shrinks it)
    n_positions: int = 1024
    seed: int = 0
    threads: int = 1  # torch CPU threads
    # fp32 | bf16: bfloat16 autocast with fp32 master weights, and attention written out
    # (eager): on an AMX CPU ~1.7x faster per step than fp32 (the fused attention's bf16
    # backward is slow at these lengths)
    precision: str = "fp32"
    init_from: str | None = None  # continue from a saved LM folder (its tokenizer and weights)

    def __post_init__(self) -> None:
        at_least(self, 1, "steps", "batch_size", "tasks_per_family", "vocab_size", "threads")
        at_least(self, 1, "n_layer", "n_embd", "n_head", "n_positions")
        at_least(self, 0, "warmup_steps", "weight_decay", "seed", "chain_tasks")
        in_range(self, "p_failure", 0.0, 1.0, high_open=False)
        one_of(self, "precision", PRECISIONS)
        positive(self, "lr")


def train_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (GPT-2 style) trained on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[SPECIAL],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=SPECIAL, eos_token=SPECIAL, unk_token=SPECIAL,
        pad_token=SPECIAL,
    )  # fmt: skip


def encode(
    tokenizer: PreTrainedTokenizerFast, text: str, spans: list[tuple[int, int]]
) -> tuple[list[int], list[int]]:
    """Token ids and labels (-100 outside ``spans``) for one rendered episode."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    labels = [
        tok if any(a <= start and end <= b for a, b in spans) else -100
        for tok, (start, end) in zip(enc["input_ids"], enc["offset_mapping"])
    ]
    return enc["input_ids"], labels


def make_batch(examples: list[tuple[list[int], list[int]]], pad_id: int) -> dict:
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id)
    labels = torch.full((len(examples), width), -100)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, (tokens, targets) in enumerate(examples):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, : len(tokens)] = torch.tensor(targets)
        mask[row, : len(tokens)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def new_model(cfg: LMTrainConfig, tokenizer: PreTrainedTokenizerFast) -> GPT2LMHeadModel:
    """A freshly initialised GPT-2 of the configured size for ``tokenizer``."""
    return GPT2LMHeadModel(
        GPT2Config(
            vocab_size=len(tokenizer), n_positions=cfg.n_positions, n_embd=cfg.n_embd,
            n_layer=cfg.n_layer, n_head=cfg.n_head, bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        )
    )  # fmt: skip


def grow_positions(model: GPT2LMHeadModel, n_positions: int) -> None:
    """Extend a GPT-2's learned position table to ``n_positions`` rows in place: the trained
    rows are kept and the new ones start as GPT-2 initialises them (normal, std
    ``initializer_range``), so a model trained on short prompts can continue on longer ones.
    """
    old = model.transformer.wpe
    if n_positions <= old.num_embeddings:
        return
    grown = torch.nn.Embedding(n_positions, old.embedding_dim)
    with torch.no_grad():
        grown.weight.normal_(0.0, model.config.initializer_range)
        grown.weight[: old.num_embeddings] = old.weight
    model.transformer.wpe = grown
    model.config.n_positions = n_positions


def grow_layers(model: GPT2LMHeadModel, n_layer: int) -> None:
    """Append transformer blocks to a GPT-2 in place until it has ``n_layer``: each new block
    starts as GPT-2 initialises one, but with its attention and MLP output projections at
    zero, so it adds nothing to the residual stream and the grown model computes exactly what
    the trained one did; training then puts the new capacity to use."""
    blocks = model.transformer.h
    if n_layer <= len(blocks):
        return
    model.config.n_layer = n_layer
    for index in range(len(blocks), n_layer):
        block = GPT2Block(model.config, layer_idx=index)
        block.apply(model._init_weights)
        for projection in (block.attn.c_proj, block.mlp.c_proj):
            torch.nn.init.zeros_(projection.weight)
            torch.nn.init.zeros_(projection.bias)
        blocks.append(block.to(next(model.parameters()).dtype))


def build_corpus(cfg: LMTrainConfig) -> list[tuple[str, list[tuple[int, int]]]]:
    """Rendered train-split episodes (text, target spans), plus the held twin
    (:func:`vla.planning.lm.twins.held_twin`) of every task that starts with a block in the
    hand and, with ``relabel_twins``, the relabel twin of every task that names blocks by
    where they are; then ``chain_tasks`` tasks that start where earlier ones left the world
    (:func:`vla.planning.lm.chain_tasks.chain_starts`)."""
    weights = {"family_weights": BUILTIN_SUITES, "construction_weights": TRAINED_CONSTRUCTIONS}
    for name, known in weights.items():
        if unknown := set(getattr(cfg, name)) - set(known):
            raise ValueError(f"{name}: unknown {sorted(unknown)}; known: {', '.join(known)}")
    rng = random.Random(cfg.seed)
    tasks = []
    for family in BUILTIN_SUITES:
        count = round(cfg.tasks_per_family * cfg.family_weights.get(family, 1.0))
        tasks += generate_tasks(
            "train", count, cfg.seed, (family,), construction_weights=cfg.construction_weights
        )
    twins = [twin for task in tasks if (twin := held_twin(task, rng))]
    if cfg.relabel_twins:
        relabel_rng = random.Random(f"{cfg.seed}:relabel")  # the other episodes stay as they were
        twins += [twin for task in tasks if (twin := relabel_twin(task, relabel_rng))]
    tasks += twins
    episodes = [render(make_episode(task, rng, cfg.p_failure, cfg.feedback)) for task in tasks]
    chain_rng = random.Random(f"{cfg.seed}:chains")  # the other episodes stay as they were
    for task, state in chain_starts(tasks, cfg.chain_tasks, chain_rng):
        episodes.append(render(make_episode(task, chain_rng, cfg.p_failure, cfg.feedback, state)))
    return episodes


def write_grounding_files(out: Path, texts: list[str], init_from: str | None) -> None:
    """What ground_words and ground_sentences read beside the LM: the corpus's words, its
    instructions' word pairs and its delexicalised instructions, each with those of the LM
    it continued from."""
    before = (read_words(init_from) or []) if init_from else []
    known = corpus_words([*before, *texts])
    (out / WORDS_FILE).write_text("\n".join(known) + "\n")
    pairs = WordPairs.from_texts(texts)
    earlier = WordPairs.read(init_from) if init_from else None
    (pairs + earlier if earlier else pairs).write(out)
    sentences = set(corpus_instructions(texts))
    trained = TrainedInstructions.read(init_from) if init_from else None
    encoder = trained.encoder if trained else DEFAULT_ENCODER  # MiniLM loaded once
    merged = sorted(sentences | set(trained.sentences if trained else ()))
    TrainedInstructions(merged, encoder=encoder).write(out)


def train_lm(cfg: LMTrainConfig) -> dict[str, float]:
    """Build the corpus, train tokenizer and model, save both to ``cfg.output_dir``."""
    torch.set_num_threads(cfg.threads)
    keep_freed_memory()  # about 5% a step at 2 threads in bf16 (vla/training/memory.py)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    started = time.time()
    corpus = build_corpus(cfg)
    if cfg.init_from:
        model, tokenizer = load_local_lm(cfg.init_from)  # its weights and tokenizer
        grow_positions(model, cfg.n_positions)
        grow_layers(model, cfg.n_layer)
    else:
        tokenizer = train_tokenizer([text for text, _ in corpus], cfg.vocab_size)
        model = new_model(cfg, tokenizer)
    examples = [encode(tokenizer, text, spans) for text, spans in corpus]
    longest = max(len(ids) for ids, _ in examples)
    if longest > model.config.n_positions:
        raise ValueError(f"an episode has {longest} tokens; raise n_positions above it")
    bf16 = cfg.precision == "bf16"
    if bf16:
        model.set_attn_implementation("eager")
    if note := precision_note(cfg.precision, torch.device("cpu")):
        print(note)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model.train()
    losses: list[float] = []
    bar = tqdm(range(cfg.steps), desc="vla-train-lm", unit="step")
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * lr_factor(step, cfg.warmup_steps, cfg.steps)
        batch = make_batch(rng.sample(examples, cfg.batch_size), tokenizer.pad_token_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.4f}")
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_grounding_files(out, [text for text, _ in corpus], cfg.init_from)
    summary = {
        "first_loss": losses[0],
        "final_loss": sum(losses[-20:]) / len(losses[-20:]),
        "episodes": len(examples),
        "parameters": sum(p.numel() for p in model.parameters()),
        "wall_s": round(time.time() - started, 1),
    }
    (out / "training.json").write_text(json.dumps({"config": asdict(cfg), **summary}, indent=2))
    return summary
