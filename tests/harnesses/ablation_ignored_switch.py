"""Bug: build_model(use_pe=...) accepts the switch but never reads it, so a variant with
use_pe=False trains exactly like the baseline: run_ablation says variant_has_no_effect."""

from clean_mlp import build_model as mlp, get_batch, num_classes  # noqa: F401 - same data as the clean MLP


def build_model(use_pe: bool = True, hidden: int = 64):
    return mlp(hidden=hidden)  # the bug: use_pe is dropped on the floor
