"""A frozen_copies declaration naming a module the model lacks (a typo: `targt`): a harness_error that names the key
and the model's submodules, never a traceback."""

from copy_dqn_clean import build_model, get_batch, loss_fn, train_step  # noqa: F401 - the contract's names

frozen_copies = {"targt": "online"}
