"""Harness: REINFORCE with a learned baseline on CartPole (Williams 1992; Sutton & Barto ch. 13.4).

The policy pi(a|s) and the baseline b(s) are two small MLPs. Each training step plays
`batch_size` episodes with the current policy (on-policy: get_train_batch takes the model),
and minimises the surrogate -mean(log pi(a_t|s_t) * A_t) with A_t = G_t - b(s_t) (normalised),
plus the baseline's squared error to G_t. The paper-level claim we check: the average return
reaches 195 of 200 (CartPole-v0 "solved").

The small pure functions (discounted_returns, chosen_log_probs, surrogate_loss) are where the
classic bugs live; check_known_values tests each against a hand-worked case.
"""

from __future__ import annotations

import cartpole
import torch
from torch import nn
from torch.nn import functional as F

GAMMA = 0.99
VALUE_COEF = 0.5
EVAL_EPISODES = 50
objective = {"monitor": "return", "mode": "max"}


class PolicyWithBaseline(nn.Module):
    def __init__(self, hidden: int = 32):
        super().__init__()
        self.policy = nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 2))
        self.baseline = nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, states: torch.Tensor) -> torch.Tensor:  # (N, 4) -> (N, 2) action logits
        return self.policy(states)

    def value(self, states: torch.Tensor) -> torch.Tensor:  # (N, 4) -> (N,)
        return self.baseline(states).squeeze(-1)


def build_model(hidden: int = 32) -> nn.Module:
    return PolicyWithBaseline(hidden)


# --- the pieces worth testing by hand --------------------------------------------------------


def discounted_returns(rewards: torch.Tensor, gamma: float) -> torch.Tensor:
    """G_t = r_t + gamma * G_{t+1}, from the last step back to the first. Time is dim 0: (T,) or (T, E).
    Rewards past an episode's end are 0, so padded episodes need no mask."""
    returns = torch.zeros_like(rewards)
    future = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns


def chosen_log_probs(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log pi(a_t | s_t) of the actions taken: (N, A) logits, (N,) int64 actions -> (N,)."""
    return torch.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def surrogate_loss(log_probs: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """-mean(log pi * A): its gradient is minus the policy gradient, so minimising it climbs the return."""
    return -(log_probs * advantages).mean()


# --- data: episodes played by a policy ---------------------------------------------------------


def _transitions(episodes: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Flatten time-major episodes to the N steps actually taken."""
    alive = episodes["alive"]  # (T, E)
    first = torch.zeros_like(alive)
    first[0] = True
    return {
        "inputs": episodes["states"][alive],  # (N, 4): the tools find the model's input under "inputs"
        "actions": episodes["actions"][alive],  # (N,)
        "returns": discounted_returns(episodes["rewards"], GAMMA)[alive],  # (N,)
        "first": first[alive],  # (N,) bool: an episode starts here; episodes = first.sum()
    }


def _policy(model: nn.Module):
    def choose(states: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        p_right = torch.softmax(model(states), dim=-1)[:, 1]
        return (torch.rand(len(states), generator=generator) < p_right).long()

    return choose


def _uniform(states: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (len(states),), generator=generator)


def get_batch(batch_size: int, split: str = "train") -> dict[str, torch.Tensor]:
    """`batch_size` episodes of a uniformly random policy (fixed per split): the tools' fixed batch."""
    generator = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    return _transitions(cartpole.play(_uniform, batch_size, generator))


@torch.no_grad()
def get_train_batch(batch_size: int, step: int, model: nn.Module) -> dict[str, torch.Tensor]:
    """`batch_size` episodes played by the current policy (on-policy), reproducible per step."""
    generator = torch.Generator().manual_seed(10_000 + step)
    return _transitions(cartpole.play(_policy(model), batch_size, generator))


def episode_return(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean undiscounted return per episode: one reward per step taken."""
    return len(batch["first"]) / batch["first"].sum().clamp(min=1)


# --- the loss and the paper's number -----------------------------------------------------------


def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    states, returns = batch["inputs"], batch["returns"]
    values = model.value(states)
    advantages = returns - values.detach()
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_probs = chosen_log_probs(model(states), batch["actions"])
    policy_loss = surrogate_loss(log_probs, advantages)
    value_loss = F.mse_loss(values, returns)
    return {
        "loss": policy_loss + VALUE_COEF * value_loss,
        "policy_loss": policy_loss.detach(),
        "value_loss": value_loss.detach(),
        "return": episode_return(batch),
    }


def make_optimizer(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr)


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    """Average return over EVAL_EPISODES episodes of the stochastic policy (fixed seed)."""
    episodes = cartpole.play(_policy(model), EVAL_EPISODES, torch.Generator().manual_seed(123))
    return {"return": episodes["rewards"].sum(0).mean().item()}
