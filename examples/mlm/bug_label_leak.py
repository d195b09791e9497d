"""Planted bug: the selected positions keep their token in the input, so the label is visible
at the position it supervises. Everything else is the clean harness, bert.py."""

import bert
from bert import *  # noqa: F403 - the clean harness, with one function replaced

_corrupt = bert.corrupt


def corrupt(tokens, real, draw, how, random_tokens):
    _, labels = _corrupt(tokens, real, draw, how, random_tokens)
    return tokens, labels  # BUG: the input is never corrupted


bert.corrupt = corrupt
