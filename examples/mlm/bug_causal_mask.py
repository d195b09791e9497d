"""Planted bug: a decoder's causal mask left in the encoder, so a position never sees its right
context. Everything else is the clean harness, bert.py."""

import math

import bert
import torch
from bert import *  # noqa: F403 - the clean harness, with one method replaced


def scores(self, q, k, real):
    logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    length = q.shape[-2]
    future = torch.ones(length, length, dtype=torch.bool).triu(1)  # BUG: an encoder sees both sides
    return logits.masked_fill(~real[:, None, None, :] | future, float("-inf"))


bert.SelfAttention.scores = scores
