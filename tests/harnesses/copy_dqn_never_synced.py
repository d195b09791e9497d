"""Bug: train_step never syncs the target network. The frozen copy keeps its initial weights for the whole
run, so every bootstrapped target comes from the untrained network. run_overfit_test must raise
copy_never_synced naming `target` over a run of 500 steps."""

from copy_dqn_clean import build_model, get_batch, loss_fn  # noqa: F401 - the contract's names


def train_step(model, batch, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()  # BUG: no model.target.load_state_dict(model.online.state_dict()) every K steps
    return loss.detach()
