"""Bug: the REINFORCE twin normalises its advantages with the unbiased std, which is NaN for one
sample: the surrogate is NaN on one rollout. run_overfit_test must report non_finite_loss at size 1."""

import overfit_reinforce as clean
from overfit_reinforce import build_model, evaluate, get_batch, get_train_batch, loss_fn, objective  # noqa: F401


def normalise(reward):
    return (reward - reward.mean()) / (reward.std() + 1e-8)  # the bug: std() of one element is NaN


clean.normalise = normalise  # the clean rollouts look it up by name
