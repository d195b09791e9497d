"""Clean, with a slow evaluate (a real test set takes a while): a running seed is often
'evaluating', and its progress must still read right."""

import time

from train_clean import build_model, evaluate as clean_evaluate, get_batch, get_train_batch, num_classes, objective  # noqa: F401


def evaluate(model):
    time.sleep(0.3)
    return clean_evaluate(model)
