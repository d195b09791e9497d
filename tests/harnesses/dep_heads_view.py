"""Bug: the heads are merged with reshape but without the transpose back: (B, nh, T, hs) read
as (B, T, nh*hs), so output position t holds channels of positions nh*t .. nh*t+nh-1.

check_dependencies(mode="causal") reports future_leakage and ranks "heads merged without
transpose" first: the mask and the softmax are right, yet some positions see the future."""

from dep_causal_lm import CausalSelfAttention, TinyLM, get_batch, num_classes  # noqa: F401


class ViewMerge(CausalSelfAttention):
    def merge(self, y):
        B, nh, T, hs = y.shape
        return y.reshape(B, T, nh * hs)  # BUG: y.transpose(1, 2) first


def build_model(layers: int = 2):
    return TinyLM(ViewMerge, layers)
