"""Bug: the EMA decay is 0 (the decay and 1 - decay swapped at a decay of 1.0), so after every step the EMA
copy is the online network itself: it averages nothing. run_overfit_test must raise copy_not_lagging naming
`ema`."""

from copy_ema_clean import build_model, get_batch, loss_fn, update_ema  # noqa: F401 - the contract's names


def train_step(model, batch, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    update_ema(model, decay=0.0)  # BUG: copy = 0 * copy + 1 * source
    return loss.detach()
