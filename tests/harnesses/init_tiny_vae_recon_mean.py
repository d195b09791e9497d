"""Bug: the tiny VAE's reconstruction averaged over its 16 pixels while the KL is summed over the latent
dims. With expected_init_loss = 16 ln 2 the loss at init is ~1/16 of it: check_initialization must say
"a mean over D=16 elements where the paper sums"."""

import overfit_tiny_vae as clean
from overfit_tiny_vae import build_model, get_batch, loss_floor  # noqa: F401 - the clean twin
from torch.nn import functional as F


def loss_fn(model, batch):
    x = batch["x"]
    logits, mu, logvar = model(x)
    recon = F.binary_cross_entropy_with_logits(logits, x)  # the bug: a mean over pixels and batch
    kl = clean.kl_divergence(mu, logvar).mean()
    return {"loss": recon + kl, "recon": recon, "kl": kl}
