"""Harness: Deep Q-Networks (Mnih et al., Nature 2015) on CartPole-v1 written in pole.py.

What the paper prescribes, and is kept here: an online Q-network trained on minibatches drawn
uniformly from a replay memory of past transitions; a target network, a frozen copy synced
from the online one every SYNC_EVERY updates, giving the bootstrapped target
y = r + gamma * (1 - terminal) * max_a' Q_target(s', a') (no gradient through y); the Huber
loss on Q(s, a) - y; an epsilon-greedy behaviour policy whose epsilon falls linearly from 1 to
0.05. Scaled down: a 64-64 MLP instead of the convolutional net, 4 carts stepped per update.

Interaction lives in get_train_batch (it acts with the current network, so it takes the
model), the update in train_step, which also returns epsilon so the schedule is on the curves.
get_batch is a fixed set of transitions of a random policy: the tools' reproducible batch.
The claim checked: the greedy policy's return is far above a random policy's (~22).
"""

from __future__ import annotations

import copy

import numpy as np
import pole
import torch
from torch import nn
from torch.nn import functional as F

GAMMA = 0.99
SYNC_EVERY = 100  # updates between target syncs
EPS_START, EPS_END, EPS_DECAY = 1.0, 0.05, 1500  # linear over the first EPS_DECAY updates
REPLAY, WARMUP, CARTS = 20_000, 500, 4
EVAL_EPISODES = 10
objective = {"monitor": "return", "mode": "max"}


class QAgent(nn.Module):
    """Online Q-network, its target copy (`target`, requires_grad False) and the update count."""

    def __init__(self, hidden: int = 64):
        super().__init__()
        self.online = nn.Sequential(
            nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2)
        )
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.updates = 0  # optimiser steps taken: drives epsilon and the target syncs

    def forward(self, states: torch.Tensor) -> torch.Tensor:  # (N, 4) -> (N, 2) Q-values
        return self.online(states)


def build_model(hidden: int = 64) -> nn.Module:
    return QAgent(hidden)


def make_optimizer(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam([p for p in params if p.requires_grad], lr=lr)


# --- the pieces worth testing by hand --------------------------------------------------------


def epsilon(updates: int) -> float:
    """Linear from EPS_START to EPS_END over EPS_DECAY updates, then flat."""
    return EPS_END + (EPS_START - EPS_END) * max(0.0, 1 - updates / EPS_DECAY)


def td_target(
    rewards: torch.Tensor, next_q: torch.Tensor, terminal: torch.Tensor, gamma: float | None = None
) -> torch.Tensor:
    """y = r + gamma * (1 - terminal) * max_a' Q_target(s', a'): (N,), (N, A), (N,) -> (N,); gamma: GAMMA."""
    gamma = GAMMA if gamma is None else gamma
    return rewards + gamma * (1 - terminal) * next_q.max(dim=-1).values


def chosen_q(q: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Q(s, a) of the actions taken: (N, A), (N,) int64 -> (N,)."""
    return q.gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def sync_target(model: nn.Module) -> None:
    model.target.load_state_dict(model.online.state_dict())


# --- data: transitions ---------------------------------------------------------------------


def _as_batch(columns: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    batch = {k: torch.as_tensor(v) for k, v in columns.items()}
    batch["actions"] = batch["actions"].long()
    return batch


def _collect(poles: pole.Poles, steps: int, choose) -> dict[str, np.ndarray]:
    """`steps` rounds of every cart acting: the transitions, flattened."""
    rows = {"inputs": [], "actions": [], "rewards": [], "next_states": [], "terminal": []}
    for _ in range(steps):
        states = poles.state.copy()
        actions = choose(states)
        nxt, rewards, terminal, _ = poles.step(actions)
        for key, value in zip(rows, (states, actions, rewards, nxt, terminal)):
            rows[key].append(value)
    return {k: np.concatenate(v) for k, v in rows.items()}


def get_batch(batch_size: int, split: str = "train") -> dict[str, torch.Tensor]:
    """`batch_size` transitions of a uniformly random policy (fixed per split), terminals included.
    `inputs` holds the states s (the tools find the model's input there)."""
    rng = np.random.default_rng({"train": 0, "test": 1}[split])
    poles = pole.Poles(8, rng)
    columns = _collect(poles, -(-batch_size // 8), lambda s: rng.integers(0, 2, len(s)))
    return _as_batch({k: v[:batch_size] for k, v in columns.items()})


class Replay:
    """A ring buffer of transitions and the carts that feed it, with its own random stream."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.poles = pole.Poles(CARTS, self.rng)
        self.columns: dict[str, np.ndarray] = {}
        self.size = self.next = 0

    def add(self, rows: dict[str, np.ndarray]) -> None:
        if not self.columns:
            self.columns = {k: np.zeros((REPLAY, *v.shape[1:]), v.dtype) for k, v in rows.items()}
        where = (self.next + np.arange(len(rows["actions"]))) % REPLAY
        for k, v in rows.items():
            self.columns[k][where] = v
        self.next = int(where[-1] + 1) % REPLAY
        self.size = min(self.size + len(where), REPLAY)

    def sample(self, n: int) -> dict[str, np.ndarray]:
        index = self.rng.integers(0, self.size, n)
        return {k: v[index] for k, v in self.columns.items()}


def _greedy(model: nn.Module, eps: float, rng: np.random.Generator):
    @torch.no_grad()
    def choose(states: np.ndarray) -> np.ndarray:
        best = model(torch.as_tensor(states)).argmax(-1).numpy()
        return np.where(rng.random(len(states)) < eps, rng.integers(0, 2, len(states)), best)

    return choose


def get_train_batch(batch_size: int, step: int, model: nn.Module) -> dict[str, torch.Tensor]:
    """Act epsilon-greedily for one round of every cart, store it, and sample a minibatch.
    The replay memory lives on the model (one per training run); step 0 fills WARMUP transitions."""
    if step == 0 or not hasattr(model, "replay"):
        model.replay = Replay(seed=step)
    replay = model.replay
    rounds = -(-WARMUP // CARTS) if replay.size == 0 else 1
    replay.add(_collect(replay.poles, rounds, _greedy(model, epsilon(model.updates), replay.rng)))
    return _as_batch(replay.sample(batch_size))


# --- loss, update and the paper's number -----------------------------------------------------


def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Huber loss between Q(s, a) and the TD target from the frozen target network."""
    with torch.no_grad():
        y = td_target(batch["rewards"], model.target(batch["next_states"]), batch["terminal"])
    return F.smooth_l1_loss(chosen_q(model(batch["inputs"]), batch["actions"]), y)


def train_step(model: nn.Module, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer) -> dict:
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    nn.utils.clip_grad_norm_(model.online.parameters(), 10.0)
    optimizer.step()
    model.updates += 1
    if model.updates % SYNC_EVERY == 0:
        sync_target(model)
    return {"loss": loss.detach(), "epsilon": torch.tensor(epsilon(model.updates))}


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    """Mean return of the greedy policy over EVAL_EPISODES episodes (fixed starts), and of a uniformly
    random policy from the same starts: the baseline the paper's claim is measured against."""
    greedy = pole.episode_returns(
        _greedy(model, 0.0, np.random.default_rng(123)), EVAL_EPISODES, np.random.default_rng(123)
    )
    rng = np.random.default_rng(123)
    uniform = pole.episode_returns(lambda s: rng.integers(0, 2, len(s)), EVAL_EPISODES, rng)
    return {"return": float(greedy.mean()), "random_return": float(uniform.mean())}
