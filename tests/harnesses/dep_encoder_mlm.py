"""Clean: a tiny BERT-style masked-LM encoder on padded token sequences.

The batch is {input_ids, attention_mask, labels}: trailing padding (id 0, attention_mask 0),
15% of the real positions selected (80% [MASK], 10% random, 10% kept), labels -100 elsewhere.
Attention is bidirectional and masks the padded *keys*. check_dependencies at its defaults
must find no problem: both sides seen, padding ignored, the loss on the selected positions only."""

import math

import torch
from torch import nn
from torch.nn import functional as F

VOCAB, SEQ_LEN, WIDTH, HEADS = 20, 12, 32, 4
PAD, MASK = 0, 1
NEG = -1e9  # exp underflows to exactly 0: masked keys get exactly no weight


class EncoderAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)

    def mask(self, scores: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill(~real[:, None, None, :], NEG)  # padded keys, (B, 1, 1, T)

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        scores = self.mask(q @ k.transpose(-2, -1) / math.sqrt(C // HEADS), real)
        y = F.softmax(scores, dim=-1) @ v  # (B, nh, T, hs)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, attention: nn.Module):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.attn = attention
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), real)
        return x + self.mlp(self.ln2(x))


class Encoder(nn.Module):
    def __init__(self, attention_class=EncoderAttention, layers: int = 2):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, WIDTH)
        self.pos_emb = nn.Embedding(SEQ_LEN, WIDTH)
        self.blocks = nn.ModuleList(Block(attention_class()) for _ in range(layers))
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, idx: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks:
            x = block(x, attention_mask.bool())
        return self.head(x)  # (B, T, VOCAB)


def build_model(layers: int = 2):
    return Encoder(EncoderAttention, layers)


def tokens(batch_size: int, split: str):
    """(ids, attention_mask, selected, generator): sequences of random length padded with PAD at the end."""
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    ids = torch.randint(2, VOCAB, (batch_size, SEQ_LEN), generator=g)
    lengths = torch.randint(SEQ_LEN // 2, SEQ_LEN, (batch_size,), generator=g)
    real = torch.arange(SEQ_LEN)[None, :] < lengths[:, None]
    selected = (torch.rand(batch_size, SEQ_LEN, generator=g) < 0.15) & real
    selected[:, 1] = True  # at least one selected position per example
    return ids.masked_fill(~real, PAD), real.long(), selected, g


def corrupt(ids: torch.Tensor, selected: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """BERT's 80/10/10: [MASK], a random token, or the token kept."""
    roll = torch.rand(ids.shape, generator=g)
    random_ids = torch.randint(2, VOCAB, ids.shape, generator=g)
    out = torch.where(selected & (roll < 0.8), MASK, ids)
    return torch.where(selected & (roll >= 0.8) & (roll < 0.9), random_ids, out)


def get_batch(batch_size: int, split: str = "train"):
    ids, real, selected, g = tokens(batch_size, split)
    labels = torch.where(selected, ids, -100)  # the loss only on the selected positions
    return {"input_ids": corrupt(ids, selected, g), "attention_mask": real, "labels": labels}


def forward(model, batch):
    return model(batch["input_ids"], batch["attention_mask"])


def loss_fn(model, batch):
    logits = forward(model, batch)
    return F.cross_entropy(logits.reshape(-1, VOCAB), batch["labels"].reshape(-1), ignore_index=-100)
