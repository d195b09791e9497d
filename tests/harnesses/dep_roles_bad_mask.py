"""Bad declaration: batch_roles names the labels as the pad mask, a (B, T) tensor of token ids and
-100, not a bool/0-1 mask. check_dependencies answers a harness_error naming the key and the batch's keys."""

from dep_encoder_mlm import build_model, forward, get_batch, loss_fn  # noqa: F401

batch_roles = {"pad_mask": "labels"}
