"""Planted bug: the heads are merged with reshape but without the transpose back, so output
position t holds channels of other positions (some of them later). check_dependencies(mode=
"causal") -> future_leakage, "heads merged without transpose" ranked first."""

from harness_transformer import *  # noqa: F403 - everything else is the clean harness
from harness_transformer import LAYERS, Attention, Transformer


class ViewMerge(Attention):
    def merge(self, y):
        batch, heads, steps, d_k = y.shape
        return y.reshape(batch, steps, heads * d_k)  # BUG: y.transpose(1, 2) first


def build_model(layers: int = LAYERS):
    return Transformer(ViewMerge, layers)
