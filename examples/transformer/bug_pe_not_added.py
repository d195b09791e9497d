"""Planted bug: the positional encoding is computed but never added.

The model sees its input as a bag of tokens; reversal, which reads by position, cannot be
learned. check_dependencies(mode="position") -> no_positional_information."""

from harness_transformer import *  # noqa: F403 - everything else is the clean harness
from harness_transformer import LAYERS, Attention, Transformer


class ForgetsPosition(Transformer):
    def embed(self, idx):
        pe = self.pe[: idx.shape[1]]  # noqa: F841 - BUG: computed, never added
        return self.embed_tokens(idx) * D_MODEL**0.5  # noqa: F405


def build_model(layers: int = LAYERS):
    return ForgetsPosition(Attention, layers)
