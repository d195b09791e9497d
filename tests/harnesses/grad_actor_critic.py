"""Clean: an actor-critic with separate policy and value towers trained by one loss whose terms
differ in scale (returns around 200 make the value loss ~1000x the policy surrogate). Comparing the
policy tower's first layer with the value tower's last says nothing about vanishing gradients."""

import torch
from torch import nn


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.policy = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
        self.value = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, obs):
        return self.policy(obs), self.value(obs).squeeze(-1)


def build_model():
    return ActorCritic()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    obs = torch.randn(batch_size, 4, generator=g)
    actions = torch.randint(0, 2, (batch_size,), generator=g)
    returns = 200 + 20 * torch.randn(batch_size, generator=g)
    return {"obs": obs, "actions": actions, "returns": returns}


def loss_fn(model, batch):
    logits, values = model(batch["obs"])
    log_prob = torch.log_softmax(logits, -1).gather(1, batch["actions"][:, None]).squeeze(1)
    advantage = (batch["returns"] - values).detach()
    advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    policy = -(log_prob * advantage).mean()
    value = 0.5 * (batch["returns"] - values).pow(2).mean()
    return {"loss": policy + value, "policy": policy, "value": value}
