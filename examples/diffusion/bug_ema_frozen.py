"""Planted bug: the EMA copy is never updated, so sampling uses the weights at initialisation.
Everything else is the clean harness, ddpm.py."""

import ddpm
from ddpm import *  # noqa: F403 - the clean harness, with one function replaced


def update_ema(model, decay=ddpm.EMA_DECAY):
    pass  # BUG: the copy never follows the online weights


ddpm.update_ema = update_ema
