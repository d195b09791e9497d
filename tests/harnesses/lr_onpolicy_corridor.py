"""Clean on-policy harness for lr_sweep: REINFORCE with a learned baseline on a "corridor".

Each step of an episode shows 4 random features; the right action is whether the first is
positive; an episode ends at the first wrong action or after HORIZON steps, one reward per
step survived. get_train_batch plays episodes with the current policy (on-policy), and the
loss is the surrogate plus the baseline's squared error. As the policy improves the returns
grow, and so does the baseline's error: a growing loss here is the method working, which is
why sweeps judge this harness on its objective (the mean return), never on the loss.
"""

import torch
from torch import nn
from torch.nn import functional as F

HORIZON, FEATURES = 30, 4
objective = {"monitor": "return", "mode": "max"}


class PolicyWithBaseline(nn.Module):
    def __init__(self):
        super().__init__()
        self.policy = nn.Sequential(nn.Linear(FEATURES, 16), nn.Tanh(), nn.Linear(16, 2))
        self.baseline = nn.Linear(FEATURES + 1, 1)  # state and time: the return left depends on both

    def forward(self, states):  # (N, FEATURES) -> (N, 2) action logits
        return self.policy(states)


def build_model():
    return PolicyWithBaseline()


@torch.no_grad()
def play(model, episodes: int, generator: torch.Generator) -> dict:
    states = torch.randn(HORIZON, episodes, FEATURES, generator=generator)
    p_right = torch.softmax(model(states), dim=-1)[..., 1]  # (T, E)
    actions = (torch.rand(HORIZON, episodes, generator=generator) < p_right).long()
    correct = actions == (states[..., 0] > 0).long()
    alive = torch.cumprod(correct.long(), dim=0).bool()  # steps survived, each worth a reward of 1
    taken = torch.cat([torch.ones(1, episodes, dtype=torch.bool), alive[:-1]])  # the steps actually played
    returns = alive.float().flip(0).cumsum(0).flip(0)  # (T, E) undiscounted rewards to go
    time = torch.arange(HORIZON, dtype=torch.float)[:, None, None].expand(HORIZON, episodes, 1) / HORIZON
    return {
        "inputs": states[taken],
        "time": time[taken],
        "actions": actions[taken],
        "returns": returns[taken],
        "return": alive.float().sum(0).mean(),
    }


def get_batch(batch_size: int, split: str = "train"):
    return play(build_model(), batch_size, torch.Generator().manual_seed({"train": 0, "test": 1}[split]))


def get_train_batch(batch_size: int, step: int, model):
    return play(model, batch_size, torch.Generator().manual_seed(10_000 + step))


def loss_fn(model, batch):
    values = model.baseline(torch.cat([batch["inputs"], batch["time"]], dim=1)).squeeze(-1)
    advantages = batch["returns"] - values.detach()
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_probs = torch.log_softmax(model(batch["inputs"]), dim=-1).gather(1, batch["actions"][:, None]).squeeze(1)
    value_loss = F.mse_loss(values, batch["returns"])
    return {"loss": -(log_probs * advantages).mean() + 0.5 * value_loss, "value_loss": value_loss.detach()}


def evaluate(model):
    return {"return": play(model, 64, torch.Generator().manual_seed(123))["return"].item()}
