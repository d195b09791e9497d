"""
scikit-learn's 8x8 digits (1,797 images, bundled with the package: no download), grey pixels
scaled from 0..16 to [0, 1], split once by a seeded permutation into 1,497 train / 300 test.

get_batch(n, split)        the contract's fixed batch: the first n digits of the split, always the same.
get_train_batch(n, step)   batch `step` of an endless stream that reshuffles the train set every epoch.
evaluate_with(model, terms)  the test negative ELBO, and the no-latent baseline's test NLL to beat.
save_grid(images, path)      a PNG of sampled digits.
"""

import functools
import os

import torch
import torch.nn.functional as F

PIXELS = 64
TEST = 300
SPLIT_SEED = 0
EVAL_SEED = 1  # the eps of the test ELBO: fixed, so evaluate(model) is deterministic
EVAL_SAMPLES = 10  # z samples per test digit: the ELBO estimate's noise falls as 1/sqrt(10)


@functools.lru_cache(maxsize=1)
def _splits():
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().data, dtype=torch.float32) / 16.0  # (1797, 64) in [0, 1]
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(SPLIT_SEED))
    return {"train": images[order[TEST:]], "test": images[order[:TEST]]}


def get_batch(batch_size, split="train"):
    images = _splits()[split]
    return {"x": images[:batch_size]}


def get_train_batch(batch_size, step, seed=0):
    images = _splits()["train"]
    per_epoch = len(images) // batch_size
    epoch, index = divmod(step, per_epoch)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(epoch + 1_000_003 * seed))
    return {"x": images[order[index * batch_size : (index + 1) * batch_size]]}


def pixel_entropy(x):
    """Sum over pixels of the binary entropy of each grey value, batch mean (nats per digit)."""
    entropy = -(torch.special.xlogy(x, x) + torch.special.xlogy(1 - x, 1 - x))  # 0 log 0 = 0 at black and white
    return float(entropy.sum(dim=-1).mean())


def baseline_nll(split="test"):
    """An independent Bernoulli per pixel, its mean fitted on train: the NLL a model with no
    latent variable gets. The VAE's bound must come out below it."""
    mean = _splits()["train"].mean(dim=0).clamp(1e-4, 1 - 1e-4)
    x = _splits()[split]
    return float(F.binary_cross_entropy(mean.expand_as(x), x, reduction="none").sum(dim=-1).mean())


def evaluate_with(model, terms):
    """test_neg_elbo: recon + KL per test digit, averaged over EVAL_SAMPLES draws of z."""
    x = _splits()["test"]
    was_training = model.training
    model.eval()
    state = torch.get_rng_state()
    torch.manual_seed(EVAL_SEED)
    try:
        with torch.no_grad():
            draws = [terms(model, x) for _ in range(EVAL_SAMPLES)]
    finally:
        torch.set_rng_state(state)
        model.train(was_training)
    recon = torch.stack([r for r, _ in draws]).mean()
    kl = torch.stack([k for _, k in draws]).mean()
    return {
        "test_neg_elbo": float(recon + kl),
        "test_recon": float(recon),
        "test_kl": float(kl),
        "baseline_nll": baseline_nll("test"),
    }


def save_grid(images, path, columns=4):
    """Save (n, 8, 8) images in [0, 1] as one grey PNG grid, atomically (parallel seeds write it too)."""
    from matplotlib.image import imsave

    n = len(images)
    rows = -(-n // columns)
    grid = torch.ones(rows * 9 + 1, columns * 9 + 1)  # a one-pixel white border around each digit
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[1 + 9 * r : 9 + 9 * r, 1 + 9 * c : 9 + 9 * c] = 1 - image  # dark ink on white, like the paper's figures
    big = grid.repeat_interleave(8, 0).repeat_interleave(8, 1).numpy()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.png"
    imsave(tmp, big, cmap="gray", vmin=0, vmax=1)
    os.replace(tmp, path)
