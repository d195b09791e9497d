"""Planted bug: the softmax normalises over the queries (dim=-2), not the keys. The mask is
right, but each weight's normaliser sums over later queries. check_dependencies(mode="causal")
-> future_leakage, "softmax over the wrong dimension" ranked first."""

from harness_transformer import *  # noqa: F403 - everything else is the clean harness
from harness_transformer import LAYERS, Attention, Transformer
from torch.nn import functional as F


class QuerySoftmax(Attention):
    def weights(self, scores):
        return F.softmax(scores, dim=-2)  # BUG: dim=-1


def build_model(layers: int = LAYERS):
    return Transformer(QuerySoftmax, layers)
