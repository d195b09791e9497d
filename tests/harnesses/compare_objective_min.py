"""Clean: the clean MLP with an evaluate metric whose name says nothing about its direction
("spread"), declared lower-is-better by the objective. compare_metrics(run_id=...) must take
the direction from the run's objective."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - contract names

objective = {"monitor": "spread", "mode": "min"}


@torch.no_grad()
def evaluate(model):
    x, _ = get_batch(64, "test")
    return {"spread": model(x).std().item() + 10.0}  # always far above 0: a reported 0.0 is better
