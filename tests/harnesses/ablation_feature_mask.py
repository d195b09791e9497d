"""Bug behind a switch: build_model(use_mask=True), the default, puts a FeatureMask in front
of the classifier that is meant to drop the listed input features, but builds its keep-mask
from zeros instead of ones, so it zeroes every feature. The model then sees nothing and
its loss sits at the label entropy; run_ablation with {"use_mask": False} shows that
removing this one component makes the model train.

`hidden` sets the width; `init_scale` multiplies the first layer's initial weights (1e39
overflows float32 to Inf: a variant whose loss is NaN from the start)."""

import torch
from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean MLP
from torch import nn


class FeatureMask(nn.Module):
    def __init__(self, features: int, drop: tuple[int, ...]):
        super().__init__()
        keep = torch.zeros(features)  # BUG: torch.ones(features)
        keep[list(drop)] = 0.0
        self.register_buffer("keep", keep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.keep


def build_model(use_mask: bool = True, hidden: int = 64, init_scale: float = 1.0):
    mlp = [nn.Linear(16, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)]
    with torch.no_grad():
        mlp[0].weight.mul_(init_scale)
    return nn.Sequential(*([FeatureMask(16, drop=(15,))] if use_mask else []), *mlp)
