"""Bug: the positional embedding is computed but never added. build_model(causal=True) is a
causal LM, build_model(causal=False) a bidirectional encoder (no mask): both lose the order.

check_dependencies(mode="position") reports no_positional_information for both. Their clean
twins are dep_causal_lm.py (causal) and dep_no_causal_mask.py (bidirectional, PE added)."""

import torch
from dep_causal_lm import CausalSelfAttention, TinyLM, get_batch, num_classes  # noqa: F401
from dep_no_causal_mask import UnmaskedSelfAttention


class ForgetsPosition(TinyLM):
    def embed(self, idx):
        pos = self.pos_emb(torch.arange(idx.shape[1], device=idx.device))  # noqa: F841 - BUG: computed, never added
        return self.tok_emb(idx)


def build_model(causal: bool = True):
    return ForgetsPosition(CausalSelfAttention if causal else UnmaskedSelfAttention)
