"""Data of the issue-shaped LR-finder problems (benchmarks/lr_problems.py ISSUE_SHAPED). A fresh
batch per step from its own seeded generator, the same for every run; each task offsets its
seeds so that no two tasks share a stream.

Mixture: 7 classes in 24 features, each class two Gaussian clusters on opposite sides of the
origin (XOR-like: no class is linearly separable), with noise. Ridge: a smooth nonlinear scalar
of 10 uniform features plus a little noise. Bumps: a 2-output target of 8 Gaussian features
(a gated product and a radial bump). Waves: 64-sample signals of one of 5 waveform shapes at a
random frequency, phase and amplitude, under noise. Fibonacci: token sequences with
tok[t] = (tok[t-1] + tok[t-2]) mod FIB_VOCAB after two random seed tokens. Teacher: 16 Gaussian
features labelled by the argmax of a fixed random 2-layer tanh network (4 classes)."""

import math

import torch

MIX_FEATURES, MIX_CLASSES = 24, 7
RIDGE_FEATURES = 10
BUMP_FEATURES, BUMP_OUTPUTS = 8, 2
WAVE_LENGTH, WAVE_CLASSES = 64, 5
FIB_VOCAB, FIB_LENGTH = 16, 17  # model sees FIB_LENGTH - 1 tokens, predicts the next of each
TEACHER_FEATURES, TEACHER_CLASSES = 16, 4

_fixed = torch.Generator().manual_seed(1616)
_MIX_CENTRES = 0.6 * torch.randn(MIX_CLASSES, MIX_FEATURES, generator=_fixed)
_BUMP_W = torch.randn(3, BUMP_FEATURES, generator=_fixed) / math.sqrt(BUMP_FEATURES)
_TEACHER_1 = torch.randn(TEACHER_FEATURES, 32, generator=_fixed) / math.sqrt(TEACHER_FEATURES) * 2
_TEACHER_2 = torch.randn(32, TEACHER_CLASSES, generator=_fixed) / math.sqrt(32)

_OFFSETS = {
    "mixture": 1_000_000,
    "ridge": 2_000_000,
    "bumps": 3_000_000,
    "waves": 4_000_000,
    "fibonacci": 5_000_000,
    "teacher": 6_000_000,
}


def _gen(task: str, seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(_OFFSETS[task] + seed)


def mixture(batch_size: int, seed: int):
    g = _gen("mixture", seed)
    labels = torch.randint(0, MIX_CLASSES, (batch_size,), generator=g)
    side = torch.randint(0, 2, (batch_size, 1), generator=g).float() * 2 - 1
    x = side * _MIX_CENTRES[labels] + 0.8 * torch.randn(batch_size, MIX_FEATURES, generator=g)
    return x, labels


def ridge(batch_size: int, seed: int):
    g = _gen("ridge", seed)
    x = torch.rand(batch_size, RIDGE_FEATURES, generator=g) * 2 - 1
    y = (
        torch.sin(math.pi * x[:, 0] * x[:, 1])
        + 0.8 * (x[:, 2] - x[:, 3]) ** 2
        + torch.cos(2 * x[:, 4]) * x[:, 5]
        + 0.5 * x[:, 6] * x[:, 7] * x[:, 8]
        - 0.4
    )
    return x, (y + 0.05 * torch.randn(batch_size, generator=g))[:, None]


def bumps(batch_size: int, seed: int):
    g = _gen("bumps", seed)
    x = torch.randn(batch_size, BUMP_FEATURES, generator=g)
    p = x @ _BUMP_W.T
    y0 = torch.tanh(2 * p[:, 0]) * p[:, 1]
    y1 = 2 * torch.exp(-0.5 * (p[:, 2] ** 2 + p[:, 0] ** 2)) - 0.8
    y = torch.stack([y0, y1], dim=1)
    return x, y + 0.05 * torch.randn(y.shape, generator=g)


def waves(batch_size: int, seed: int):
    g = _gen("waves", seed)
    labels = torch.randint(0, WAVE_CLASSES, (batch_size,), generator=g)
    freq = 2 + 4 * torch.rand(batch_size, 1, generator=g)  # cycles per signal
    phase = torch.rand(batch_size, 1, generator=g)
    amp = 0.6 + 0.8 * torch.rand(batch_size, 1, generator=g)
    t = torch.arange(WAVE_LENGTH).float()[None] / WAVE_LENGTH
    u = (freq * t + phase) % 1.0  # position within the cycle
    shapes = torch.stack(
        [
            torch.sin(2 * math.pi * u),  # sine
            torch.where(u < 0.5, 1.0, -1.0),  # square
            2 * u - 1,  # sawtooth
            1 - 4 * (u - 0.5).abs(),  # triangle
            torch.where(u < 0.15, 1.0, -0.2),  # pulse train
        ],
        dim=1,
    )
    signal = amp * shapes[torch.arange(batch_size), labels]
    return (signal + 0.5 * torch.randn(signal.shape, generator=g))[:, None], labels


def fibonacci(batch_size: int, seed: int):
    g = _gen("fibonacci", seed)
    seq = torch.empty(batch_size, FIB_LENGTH, dtype=torch.int64)
    seq[:, :2] = torch.randint(0, FIB_VOCAB, (batch_size, 2), generator=g)
    for t in range(2, FIB_LENGTH):
        seq[:, t] = (seq[:, t - 1] + seq[:, t - 2]) % FIB_VOCAB
    return seq[:, :-1], seq[:, 1:]


def teacher(batch_size: int, seed: int):
    g = _gen("teacher", seed)
    x = torch.randn(batch_size, TEACHER_FEATURES, generator=g)
    return x, (torch.tanh(x @ _TEACHER_1) @ _TEACHER_2).argmax(dim=1)


def split_seed(split: str) -> int:
    return {"train": 70_000_000, "test": 80_000_000}[split]
