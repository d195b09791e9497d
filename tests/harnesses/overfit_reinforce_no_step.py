"""Bug: the REINFORCE twin's train_step computes and backpropagates the surrogate but never calls
optimizer.step(). No size trains, so params_not_updated stays an error even at size 1."""

from overfit_reinforce import build_model, evaluate, get_batch, get_train_batch, loss_fn, objective  # noqa: F401


def train_step(model, batch, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    return loss  # the bug: optimizer.step() is missing
