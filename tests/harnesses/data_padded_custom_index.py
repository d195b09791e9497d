"""Clean: the same -1 padding as data_padded_with_minus_one.py, declared with ignore_index = -1."""

from data_padded_with_minus_one import SEQ, build_model, get_batch, num_classes  # noqa: F401

ignore_index = -1
