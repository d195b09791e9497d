"""
Harness: Batch Normalization (Ioffe & Szegedy, ICML 2015), the MNIST experiment of §4.1
scaled down to scikit-learn's 8x8 digits (1,797 images, 64 pixels in 0..16, no download).

The paper's network: 3 fully connected hidden layers of 100 sigmoid units, a 10-way
softmax, plain SGD; with BN, each hidden layer normalises its pre-activation x = Wu
before the sigmoid (BN(Wu), the bias dropped since BN's beta replaces it). The paper's
claim (its Figure 1a): the BN network reaches a higher test accuracy, and much faster.
build_model(batch_norm=False) gives the baseline network.

Data: pixels scaled to [0, 1] and standardised with the training set's mean and std
(one number each: per-pixel statistics would divide the always-zero border pixels by 0).
"""

import functools

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

num_classes = 10
objective = {"monitor": "test_accuracy", "mode": "max"}
TEST_SIZE = 397  # 1,400 training images, 397 test images
BATCH_SEED = 1234  # the fixed get_batch examples
STREAM_SEED = 0  # the shuffled training stream: epoch e is permuted by STREAM_SEED + e


@functools.lru_cache(maxsize=1)
def raw_digits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{split: (pixels 0..16 as float32 (N, 64), labels int64 (N,))}, split once by a fixed permutation."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    x = torch.tensor(digits.data[order], dtype=torch.float32)  # (1797, 64), integers 0..16
    y = torch.tensor(digits.target[order], dtype=torch.int64)
    cut = len(y) - TEST_SIZE
    return {"train": (x[:cut], y[:cut]), "test": (x[cut:], y[cut:])}


def normalise(x: torch.Tensor) -> torch.Tensor:
    """Pixels 0..16 -> zero mean, unit std over the training set."""
    train = raw_digits()["train"][0] / 16
    return (x / 16 - train.mean()) / train.std()


@functools.lru_cache(maxsize=1)
def digits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    return {split: (normalise(x), y) for split, (x, y) in raw_digits().items()}


def get_batch(batch_size: int, split: str = "train"):
    """The same `batch_size` examples of `split` on every call (own generator, never the global RNG)."""
    x, y = digits()[split]
    pick = torch.randperm(len(y), generator=torch.Generator().manual_seed(BATCH_SEED))[: min(batch_size, len(y))]
    return x[pick], y[pick]


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    """Minibatch `step` of an endless stream that reshuffles the training set every epoch (its own order per seed)."""
    x, y = digits()["train"]
    per_epoch = len(y) // batch_size
    epoch, index = divmod(step, per_epoch)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(STREAM_SEED + epoch + 1_000_003 * seed))
    pick = order[index * batch_size : (index + 1) * batch_size]
    return x[pick], y[pick]


def build_model(batch_norm: bool = True, hidden: int = 100, layers: int = 3) -> nn.Module:
    """64 -> 3 x [Linear(100) (-> BN) -> sigmoid] -> Linear(10) logits."""
    blocks, width = [], 64
    for _ in range(layers):
        blocks.append(nn.Linear(width, hidden, bias=not batch_norm))  # BN's beta is the bias
        if batch_norm:
            blocks.append(nn.BatchNorm1d(hidden))
        blocks.append(nn.Sigmoid())
        width = hidden
    blocks.append(nn.Linear(width, num_classes))
    return nn.Sequential(*blocks)


def make_optimizer(params, lr: float):
    return torch.optim.SGD(params, lr=lr)  # the paper's MNIST runs: plain stochastic gradient descent


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    """Test accuracy (and loss) with BN on its running statistics: the network used for inference."""
    was_training = model.training
    model.eval()
    x, y = digits()["test"]
    logits = model(x)
    model.train(was_training)
    return {
        "test_accuracy": (logits.argmax(1) == y).float().mean().item(),
        "test_loss": F.cross_entropy(logits, y).item(),
    }
