"""Planted bug: the pad mask is inverted, so real tokens attend only to padding (and sequences
without padding to nothing finite: -1e9 keeps them finite). Everything else is bert.py."""

import math

import bert
from bert import *  # noqa: F403 - the clean harness, with one method replaced


def scores(self, q, k, real):
    logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return logits.masked_fill(real[:, None, None, :], -1e9)  # BUG: ~ dropped


bert.SelfAttention.scores = scores
