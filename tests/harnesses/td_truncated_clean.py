"""Clean: a one-step TD loss on a replay batch that also carries bookkeeping a correct loss never reads: the
time-limit flag `truncated` (bootstrapping through a time-limit cut is right) and `episode_id`. check_dependencies
must probe its transitions and stay quiet."""

import copy

import torch
from torch import nn
from torch.nn import functional as F

GAMMA = 0.9


class Agent(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 2))
        self.target = copy.deepcopy(self.online).requires_grad_(False)

    def forward(self, states):
        return self.online(states)


def build_model():
    return Agent()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    return {
        "inputs": torch.randn(batch_size, 3, generator=g),
        "actions": torch.randint(0, 2, (batch_size,), generator=g),
        "rewards": torch.randn(batch_size, generator=g),
        "next_states": torch.randn(batch_size, 3, generator=g),
        "terminal": (torch.rand(batch_size, generator=g) < 0.2).float(),
        "truncated": (torch.rand(batch_size, generator=g) < 0.2).float(),
        "episode_id": torch.arange(batch_size),
    }


def loss_fn(model, batch):
    with torch.no_grad():
        best_next = model.target(batch["next_states"]).max(dim=-1).values
        y = batch["rewards"] + GAMMA * (1 - batch["terminal"]) * best_next
    q = model(batch["inputs"]).gather(-1, batch["actions"].unsqueeze(-1)).squeeze(-1)
    return F.mse_loss(q, y)
