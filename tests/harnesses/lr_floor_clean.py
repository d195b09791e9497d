"""Clean twin for lr_sweep's loss judges: clean_mlp.py declaring loss_floor = 0 (cross-entropy)."""

from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - same model and data as the clean twin

loss_floor = 0.0
