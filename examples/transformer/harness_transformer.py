"""Attention Is All You Need (Vaswani et al., NeurIPS 2017), decoder-only, on a synthetic task.

The task: read N digits, then a separator, then write them reversed. A decoder-only model
sees `digits SEP reversed[:-1]` and is scored on the N reversed digits only (the digits
before SEP are random, so their targets are `-100` padding, skipped by `ignore_index`).
Reversal needs attention by *position* (output k reads input N-1-k), so it fails without a
working positional encoding, and a missing causal mask lets it copy the answer.

What the paper prescribes, and is kept here: post-LN residual blocks (x = LN(x + f(x))),
scaled dot-product attention with 1/sqrt(d_k), multi-head attention, sinusoidal positional
encodings added to embeddings scaled by sqrt(d_model), a ReLU feed-forward of width d_ff,
dropout 0.1, Adam(0.9, 0.98, 1e-9) with the warmup-then-inverse-square-root schedule, and
label smoothing 0.1. Scaled down: 2 layers, d_model 64, 4 heads, d_ff 256.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

DIGITS, N = 10, 8  # N digits to reverse, each one of DIGITS values
SEP = 1  # token 0 is unused padding; digits are tokens 2 .. DIGITS + 1
VOCAB = DIGITS + 2
T = 2 * N  # input length: N digits, SEP, N - 1 reversed digits
D_MODEL, HEADS, D_FF, LAYERS, DROPOUT = 64, 4, 256, 2, 0.1
SMOOTHING = 0.1
WARMUP = 100  # steps of linear warmup (the paper: 4000 of 100k)

num_classes = VOCAB
ignore_index = -100
objective = {"monitor": "token_accuracy", "mode": "max"}
# The lowest loss a perfect model reaches under label smoothing: the entropy of the smoothed target,
# (1 - eps + eps/V) on the right token and eps/V on each of the V - 1 others.
_right, _other = 1 - SMOOTHING + SMOOTHING / VOCAB, SMOOTHING / VOCAB
loss_floor = -(_right * math.log(_right) + (VOCAB - 1) * _other * math.log(_other))


class Attention(nn.Module):
    """Multi-head causal self-attention; each step is a method so a planted bug can replace one."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)

    def scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:  # (B, h, T, T)
        steps = q.shape[-2]
        future = torch.triu(torch.ones(steps, steps, dtype=torch.bool, device=q.device), diagonal=1)
        return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(future, float("-inf"))

    def weights(self, scores: torch.Tensor) -> torch.Tensor:
        return F.softmax(scores, dim=-1)  # over the keys

    def merge(self, y: torch.Tensor) -> torch.Tensor:  # (B, h, T, d_k) -> (B, T, h * d_k)
        batch, heads, steps, d_k = y.shape
        return y.transpose(1, 2).reshape(batch, steps, heads * d_k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d_model)
        batch, steps, _ = x.shape
        q, k, v = self.qkv(x).split(D_MODEL, dim=2)
        q, k, v = (t.view(batch, steps, HEADS, D_MODEL // HEADS).transpose(1, 2) for t in (q, k, v))  # (B, h, T, d_k)
        return self.proj(self.merge(self.weights(self.scores(q, k)) @ v))


class Block(nn.Module):
    """Post-LN, as in the paper: x = LN(x + Dropout(Sublayer(x)))."""

    def __init__(self, attention: nn.Module):
        super().__init__()
        self.attn, self.ln1 = attention, nn.LayerNorm(D_MODEL)
        self.ff = nn.Sequential(nn.Linear(D_MODEL, D_FF), nn.ReLU(), nn.Linear(D_FF, D_MODEL))
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.drop(self.attn(x)))
        return self.ln2(x + self.drop(self.ff(x)))


def sinusoids(steps: int, width: int) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...): (steps, width)."""
    pos = torch.arange(steps, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(steps, width)
    table[:, 0::2], table[:, 1::2] = torch.sin(pos * rate), torch.cos(pos * rate)
    return table


class Transformer(nn.Module):
    def __init__(self, attention=Attention, layers: int = LAYERS):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, D_MODEL)
        nn.init.normal_(self.embed_tokens.weight, std=D_MODEL**-0.5)  # times sqrt(d_model) below: unit scale
        self.register_buffer("pe", sinusoids(T, D_MODEL), persistent=False)
        self.drop = nn.Dropout(DROPOUT)
        self.blocks = nn.ModuleList(Block(attention()) for _ in range(layers))
        self.head = nn.Linear(D_MODEL, VOCAB)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, d_model)
        return self.embed_tokens(idx) * math.sqrt(D_MODEL) + self.pe[: idx.shape[1]]

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, T) token ids -> (B, T, VOCAB) logits
        x = self.drop(self.embed(idx))
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def build_model(layers: int = LAYERS):
    return Transformer(Attention, layers)


def _examples(count: int, generator: torch.Generator):
    digits = torch.randint(2, VOCAB, (count, N), generator=generator)
    sequence = torch.cat([digits, torch.full((count, 1), SEP), digits.flip(1)], dim=1)  # (count, 2N + 1)
    targets = sequence[:, 1:].clone()
    targets[:, : N - 1] = ignore_index  # the next random digit cannot be predicted: not scored
    targets[:, N - 1] = ignore_index  # nor the separator, which always follows N digits
    return sequence[:, :-1], targets  # (count, T) inputs, (count, T) targets


def get_batch(batch_size: int, split: str = "train"):
    """The same examples for the same (batch_size, split): each split has its own seed."""
    return _examples(batch_size, torch.Generator().manual_seed({"train": 0, "test": 1}[split]))


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    """Fresh sequences at every step, per seed (generator seeds far from the fixed splits' 0 and 1)."""
    return _examples(batch_size, torch.Generator().manual_seed(1000 + step + 1_000_003 * seed))


def loss_fn(model, batch):
    inputs, targets = batch
    logits = model(inputs)
    return F.cross_entropy(
        logits.reshape(-1, VOCAB), targets.reshape(-1), ignore_index=ignore_index, label_smoothing=SMOOTHING
    )


def make_optimizer(params, lr):
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.98), eps=1e-9)


def make_scheduler(optimizer, total_steps):
    """Linear warmup, then lr * sqrt(warmup / step): the paper's schedule with its peak at the base rate."""
    warmup = max(1, min(WARMUP, total_steps // 5))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))
    )


@torch.no_grad()
def evaluate(model):
    """Token accuracy on the reversed digits of 1000 test sequences (teacher forcing), and whole sequences right."""
    training = model.training
    model.eval()
    inputs, targets = get_batch(1000, "test")
    inputs, targets = inputs.to(next(model.parameters()).device), targets.to(next(model.parameters()).device)
    scored = targets != ignore_index
    right = (model(inputs).argmax(-1) == targets) & scored
    model.train(training)
    return {
        "token_accuracy": (right.sum() / scored.sum()).item(),
        "sequence_accuracy": (right.sum(1) == scored.sum(1)).float().mean().item(),
    }
