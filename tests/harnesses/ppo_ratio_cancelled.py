"""Bug: the 'old' log-probabilities are recomputed from the current policy without detach, so the ratio
exp(logp - old_logp) is exactly 1 with exactly zero gradient: the policy term trains nothing. The value and
entropy terms still reach every parameter, so no parameter goes without a gradient; gradient_check names the
policy term in term_without_gradient."""

from ppo_surrogate import build_model, get_batch, surrogate_terms  # noqa: F401 - the clean harness but the loss


def loss_fn(model, batch):
    return surrogate_terms(model, batch, lambda logp: logp)
