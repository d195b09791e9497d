"""Bug: the TD target is not detached and the target network was never frozen. The copy keeps
requires_grad=True and max_a' Q_target(s', a') is computed with its graph, so the loss's gradient flows into
the target network and Adam (built over model.parameters()) steps it: the target chases the prediction.
run_overfit_test must raise grad_reaches_copy naming `target`."""

import copy

from copy_dqn_clean import GAMMA, build_model as _clean_model, get_batch, sync  # noqa: F401 - get_batch is the contract's
from torch import nn


def build_model():
    model = _clean_model()
    model.target = copy.deepcopy(model.online)  # BUG: not frozen
    return model


def loss_fn(model, batch):
    q = model.online(batch["x"]).gather(1, batch["action"][:, None]).squeeze(1)
    next_q = model.target(batch["next_x"]).max(dim=1).values  # BUG: no torch.no_grad(), no .detach()
    return nn.functional.smooth_l1_loss(q, batch["reward"] + GAMMA * (1 - batch["done"]) * next_q)


def train_step(model, batch, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    sync(model)
    return loss.detach()
