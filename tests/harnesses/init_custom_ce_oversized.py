"""Bug: the clean twin's last layer is initialised 50x too large, with a bias of 40 on one class
(an init meant for another scale). The loss at init is ~15x ln 10: the model starts confidently wrong.
The loss_fn is the user's own cross-entropy, which check_initialization must still compare with ln 10."""

import init_custom_ce_clean
import torch
from init_custom_ce_clean import get_batch, loss_fn, num_classes  # noqa: F401 - the same data and loss


def build_model():
    model = init_custom_ce_clean.build_model()
    head = model[-1]
    with torch.no_grad():
        head.weight.mul_(50.0)  # the bug
        head.bias.zero_()
        head.bias[3] = 40.0
    return model
