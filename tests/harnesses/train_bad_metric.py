"""Bug: evaluate returns NaN and Inf (a metric divided by an empty count). The run and the
server must carry on, with non_finite_metric. Clean twin: train_clean.py."""

from train_clean import build_model, evaluate as clean_evaluate, get_batch, get_train_batch, num_classes, objective  # noqa: F401


def evaluate(model):
    return {**clean_evaluate(model), "precision": float("nan"), "ratio": float("inf")}
