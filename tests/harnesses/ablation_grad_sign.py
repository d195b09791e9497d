"""Bug behind a switch: build_model(straight_through=True) routes the logits through a
"straight-through" trick written backwards, 2 * out.detach() - out: the same value forward, the
gradient negated. Training then climbs the loss instead of descending it, and the variant's loss
blows up (about 1.4 to thousands). Clean twin: the default, straight_through=False."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean MLP
from torch import nn


class Logits(nn.Module):
    def __init__(self, straight_through: bool):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, num_classes))
        self.straight_through = straight_through

    def forward(self, x):
        out = self.net(x)
        return 2 * out.detach() - out if self.straight_through else out  # BUG: out + (out.detach() - out) * 0


def build_model(straight_through: bool = False):
    return Logits(straight_through)
