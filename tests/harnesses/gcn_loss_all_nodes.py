"""Bug: the GCN's loss scores every node, not the split's mask, so training reads the test nodes' labels.
check_dependencies' loss probe finds a gradient at the nodes outside batch['mask']."""

from gcn_nodes import build_model, forward, get_batch, num_classes  # noqa: F401 - the clean GCN but the loss
from torch.nn import functional as F


def loss_fn(model, batch):
    return F.cross_entropy(forward(model, batch), batch["y"])
