"""Planted bug: position embeddings computed but never added, so the encoder sees a bag of
tokens. Everything else is the clean harness, bert.py."""

import bert
from bert import *  # noqa: F403 - the clean harness, with one method replaced


def embed(self, tokens):
    self.positions.weight  # noqa: B018 - BUG: the table exists and is never added
    return self.ln(self.tokens(tokens))


bert.Encoder.embed = embed
