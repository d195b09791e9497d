"""Clean: a batch that looks like the two batch mechanisms inspect_data warns about, by design.

* `positions`: a sinusoidal table repeated in every example, the same in every split: not a
  noise draw shared across the batch;
* `labels`: the input ids themselves with padding and a prompt set to -100 (a causal LM whose
  loss_fn shifts the labels, fine-tuned on the response only): input == label at every supervised
  position, but the supervised positions are one span per row, not a scattered selection.
inspect_data must give no warning."""

import torch
from torch import nn
from torch.nn import functional as F

num_classes = 30
SEQ, D = 12, 4
PAD = 0


def build_model():
    return nn.Sequential(nn.Embedding(num_classes, 16), nn.Linear(16, num_classes))


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    tokens = torch.randint(1, num_classes, (batch_size, SEQ), generator=g)
    lengths = torch.randint(SEQ // 2, SEQ + 1, (batch_size, 1), generator=g)
    prompt = torch.randint(2, SEQ // 2, (batch_size, 1), generator=g)
    position = torch.arange(SEQ)
    tokens = tokens.masked_fill(position >= lengths, PAD)
    labels = tokens.masked_fill((position >= lengths) | (position < prompt), -100)
    table = torch.sin(position[:, None] / 10 ** (torch.arange(D) / D)).float()  # (SEQ, D)
    return {"inputs": tokens, "positions": table.expand(batch_size, SEQ, D), "labels": labels}


def loss_fn(model, batch):
    logits = model(batch["inputs"])[:, :-1]  # position t predicts token t + 1
    return F.cross_entropy(logits.reshape(-1, num_classes), batch["labels"][:, 1:].reshape(-1), ignore_index=-100)
