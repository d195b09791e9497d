"""Bad declaration: batch_roles names a condition key the batch does not have ('timestep'; the
batch calls it 't'). check_dependencies answers a harness_error naming the key and the batch's keys."""

from dep_denoiser import build_model, forward, get_batch, loss_fn  # noqa: F401

batch_roles = {"conditions": ["timestep"]}
