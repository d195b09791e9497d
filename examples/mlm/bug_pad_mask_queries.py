"""Planted bug: the pad mask is applied on the query axis, so real tokens still attend to padding.
Everything else is the clean harness, bert.py."""

import math

import bert
from bert import *  # noqa: F403 - the clean harness, with one method replaced


def scores(self, q, k, real):
    logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return logits.masked_fill(~real[:, None, :, None], -1e9)  # BUG: masks queries, not keys


bert.SelfAttention.scores = scores
