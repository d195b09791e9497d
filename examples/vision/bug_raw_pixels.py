"""Planted bug: the digits are fed as stored, whole numbers 0..16, not normalised.

Their mean (~4.9) and std (~6.0) look harmless, so a scale rule alone misses them; with
sigmoid units, inputs up to 16 push the first layer's pre-activations far into saturation.
Caught by inspect_data -> unnormalized_inputs (raw pixel levels 0..16).
"""

import harness
from harness import build_model, evaluate, get_batch, get_train_batch, make_optimizer, num_classes, objective  # noqa: F401

harness.normalise = lambda x: x  # the bug: every split skips the scaling and standardisation
