"""The LR-finder problems: harness (under benchmarks/harnesses/), swept range, and the shared
budget. Adam problems sweep [1e-5, 1]; SGD problems [1e-4, 10], where their best rates lie."""

BATCH_SIZE = 32
FINDER_STEPS = 100  # steps of each range test: lr_sweep's num_lrs, Lightning's num_training

PROBLEMS = [
    ("lr_cls_mlp_adam", 1e-5, 1.0),
    ("lr_cls_mlp_sgd", 1e-4, 10.0),
    ("lr_reg_mlp_adam", 1e-5, 1.0),
    ("lr_reg_mlp_sgd", 1e-4, 10.0),
    ("lr_tiny_transformer_adam", 1e-5, 1.0),
    ("lr_cnn_sgd", 1e-4, 10.0),
]
