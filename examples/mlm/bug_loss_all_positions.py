"""Planted bug: the loss covers every position (the labels are the clean tokens everywhere), so
most of it rewards copying the visible input. Everything else is the clean harness, bert.py."""

import bert
from bert import *  # noqa: F403 - the clean harness, with one function replaced

_corrupt = bert.corrupt


def corrupt(tokens, real, draw, how, random_tokens):
    inputs, _ = _corrupt(tokens, real, draw, how, random_tokens)
    return inputs, tokens  # BUG: no -100 outside the selected positions


bert.corrupt = corrupt
