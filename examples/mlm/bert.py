"""Harness: a tiny BERT (Devlin et al., NAACL 2019) trained with the masked-LM objective on
synthetic token sequences.

The data: arithmetic progressions modulo the vocabulary (a start and a step of 1..3), of random
length 6..16, padded to 16; one (start, step) pair in five is held out for the test split. A hidden token
is fixed by its neighbours on either side, so a bidirectional encoder recovers it and a model that guesses
from token frequencies does not.

What the paper prescribes, and is kept here: a post-LN Transformer encoder whose attention is
bidirectional and ignores padding (a key-padding mask), learned position embeddings added to
the token embeddings, 15 % of the real tokens selected per sequence, of which 80 % become
[MASK], 10 % a random token and 10 % stay unchanged, and a cross-entropy on the selected
positions only (every other label is -100, skipped by ignore_index). Scaled down: 2 layers,
d_model 64, 4 heads. The selection is drawn in get_batch from a seeded generator, so the
same call returns the same batch. The claim checked: masked-token accuracy far above the
unigram baseline.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

PAD, MASK, FIRST = 0, 1, 2  # special tokens; content tokens are FIRST .. VOCAB - 1
CONTENT = 20
VOCAB = FIRST + CONTENT
LENGTH, MIN_LENGTH = 16, 6
SELECT, TO_MASK, TO_RANDOM = 0.15, 0.8, 0.1  # BERT's 15 %, then 80 / 10 / 10
D_MODEL, HEADS, D_FF, LAYERS = 64, 4, 128, 2

num_classes = VOCAB
ignore_index = -100
objective = {"monitor": "masked_accuracy", "mode": "max"}


class SelfAttention(nn.Module):
    """Multi-head bidirectional self-attention that ignores padded keys."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.out = nn.Linear(D_MODEL, D_MODEL)

    def scores(self, q: torch.Tensor, k: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """(B, H, L, L) attention logits, -inf where the key is padding; real is (B, L) bool."""
        logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        return logits.masked_fill(~real[:, None, None, :], float("-inf"))  # mask the key axis

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:  # (B, L, D), (B, L)
        b, length, _ = x.shape
        q, k, v = (t.view(b, length, HEADS, -1).transpose(1, 2) for t in self.qkv(x).chunk(3, dim=-1))  # (B, H, L, hs)
        weights = torch.softmax(self.scores(q, k, real), dim=-1)
        return self.out((weights @ v).transpose(1, 2).reshape(b, length, D_MODEL))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn, self.ln1, self.ln2 = SelfAttention(), nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
        self.ff = nn.Sequential(nn.Linear(D_MODEL, D_FF), nn.GELU(), nn.Linear(D_FF, D_MODEL))

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.attn(x, real))
        return self.ln2(x + self.ff(x))


class Encoder(nn.Module):
    """Token + position embeddings, LAYERS blocks, a linear head over the vocabulary."""

    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, D_MODEL)
        self.positions = nn.Embedding(LENGTH, D_MODEL)
        self.ln = nn.LayerNorm(D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.head = nn.Linear(D_MODEL, VOCAB)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, L) -> (B, L, D)
        return self.ln(self.tokens(tokens) + self.positions(torch.arange(tokens.shape[1])))

    def forward(self, tokens: torch.Tensor, real: torch.Tensor) -> torch.Tensor:  # -> (B, L, VOCAB)
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, real)
        return self.head(x)


def build_model() -> nn.Module:
    return Encoder()


# --- data: progressions, padded, with BERT's selection --------------------------------------


def progressions(split: str) -> torch.Tensor:
    """The (start, stride) pairs of a split, (P, 2): one in five is held out for evaluation, so no
    test sequence is ever trained on (every test token differs from a train sequence's somewhere)."""
    pairs = torch.cartesian_prod(torch.arange(CONTENT), torch.arange(1, 4))
    held_out = (pairs.sum(dim=1) % 5) == 0  # 4 starts of every stride
    return pairs[held_out if split == "test" else ~held_out]


def sequences(n: int, generator: torch.Generator, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, LENGTH) tokens padded with PAD, and (n, LENGTH) bool: True at real tokens."""
    pairs = progressions(split)
    start, stride = pairs[torch.randint(0, len(pairs), (n,), generator=generator)].split(1, dim=1)
    tokens = FIRST + (start + stride * torch.arange(LENGTH)) % CONTENT
    lengths = torch.randint(MIN_LENGTH, LENGTH + 1, (n, 1), generator=generator)
    real = torch.arange(LENGTH) < lengths
    return tokens.masked_fill(~real, PAD), real


def corrupt(
    tokens: torch.Tensor, real: torch.Tensor, draw: torch.Tensor, how: torch.Tensor, random_tokens: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's selection from uniform draws (all (B, L)): a real position is selected when draw < 0.15;
    a selected one becomes [MASK] when how < 0.8, random_tokens when how < 0.9, else stays.
    Returns (corrupted inputs, labels: the token at selected positions, -100 everywhere else)."""
    selected = (draw < SELECT) & real
    inputs = torch.where(selected & (how < TO_MASK), MASK, tokens)
    inputs = torch.where(selected & (how >= TO_MASK) & (how < TO_MASK + TO_RANDOM), random_tokens, inputs)
    return inputs, tokens.masked_fill(~selected, ignore_index)


def mlm_batch(n: int, generator: torch.Generator, split: str) -> dict[str, torch.Tensor]:
    tokens, real = sequences(n, generator, split)
    draw = torch.rand(tokens.shape, generator=generator)
    draw[:, 0] = torch.where((draw < SELECT).logical_and(real).any(dim=1), draw[:, 0], 0.0)  # one selected at least
    how = torch.rand(tokens.shape, generator=generator)
    random_tokens = torch.randint(FIRST, VOCAB, tokens.shape, generator=generator)
    inputs, labels = corrupt(tokens, real, draw, how, random_tokens)
    return {"inputs": inputs, "pad_mask": real, "labels": labels}  # (B, L) int, (B, L) bool, (B, L) int


def get_batch(batch_size: int, split: str = "train") -> dict[str, torch.Tensor]:
    return mlm_batch(batch_size, torch.Generator().manual_seed({"train": 0, "test": 1}[split]), split)


def get_train_batch(batch_size: int, step: int, seed: int = 0) -> dict[str, torch.Tensor]:
    return mlm_batch(batch_size, torch.Generator().manual_seed(10_000 + step + 1_000_003 * seed), "train")


# --- loss and the paper's number -----------------------------------------------------------


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(batch["inputs"], batch["pad_mask"])


def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy on the selected positions only (the rest are ignore_index)."""
    logits = forward(model, batch)
    return F.cross_entropy(logits.reshape(-1, VOCAB), batch["labels"].reshape(-1), ignore_index=ignore_index)


def make_optimizer(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)


def unigram_accuracy(batch: dict[str, torch.Tensor]) -> float:
    """Accuracy of always answering the most frequent label: the baseline to beat."""
    labels = batch["labels"][batch["labels"] != ignore_index]
    return (labels == labels.mode().values).float().mean().item()


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    """Accuracy on the selected positions of 1000 held-out sequences, and the unigram baseline's."""
    batch = get_batch(1000, "test")
    chosen = batch["labels"] != ignore_index
    right = forward(model, batch).argmax(-1)[chosen] == batch["labels"][chosen]
    return {"masked_accuracy": right.float().mean().item(), "unigram_accuracy": unigram_accuracy(batch)}
