"""Clean: a language-model batch of token ids (B, T) int64 in [0, 50) with next-token targets,
the ends of shorter sequences padded with -100 (PyTorch's ignore_index). Token ids are not
pixels and padding is not an out-of-range label: inspect_data must give no warning."""

import torch
from torch import nn

num_classes = 50  # the vocabulary
SEQ = 12


def build_model():
    return nn.Sequential(nn.Embedding(num_classes, 16), nn.Linear(16, num_classes))


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    tokens = torch.randint(0, num_classes, (batch_size, SEQ + 1), generator=g)
    lengths = torch.randint(SEQ // 2, SEQ + 1, (batch_size, 1), generator=g)
    targets = tokens[:, 1:].masked_fill(torch.arange(SEQ) >= lengths, -100)  # padding after each sequence ends
    return tokens[:, :-1], targets
