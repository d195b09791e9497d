"""Bug: the softmax normalises over the queries (dim=-2) instead of the keys: the mask is
right, but each weight's normaliser sums over every later query, so position t sees them.

check_dependencies(mode="causal") reports future_leakage and ranks "softmax over the wrong
dimension" first."""

from dep_causal_lm import CausalSelfAttention, TinyLM, get_batch, num_classes  # noqa: F401
from torch.nn import functional as F


class QuerySoftmax(CausalSelfAttention):
    def weights(self, scores):
        return F.softmax(scores, dim=-2)  # BUG: dim=-1


def build_model(layers: int = 2):
    return TinyLM(QuerySoftmax, layers)
