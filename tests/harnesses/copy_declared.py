"""A copy whose name says nothing, declared: `lagged` is a deepcopy of `net` kept trainable (no requires_grad_(False))
and synced by EMA. Nothing infers it, so the harness names it in frozen_copies."""

import copy

from copy_ema_clean import build_model as _clean_model, get_batch, loss_fn  # noqa: F401 - the contract's names

frozen_copies = {"lagged": "net"}


def build_model():
    model = _clean_model()
    del model.ema
    model.lagged = copy.deepcopy(model.net)
    return model
