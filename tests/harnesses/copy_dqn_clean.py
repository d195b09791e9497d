"""Clean twin: a DQN-style TD step with a target network. The model holds `online` and `target`, a deepcopy
frozen with requires_grad_(False); train_step regresses Q(s, a) on r + gamma * (1 - done) * max_a' Q_target(s', a'),
computed under torch.no_grad(), and copies online into target every SYNC_EVERY steps. 226 parameters in the
online network (the paper's count), 452 with the target. No tool may warn."""

import copy

import torch
from torch import nn

GAMMA = 0.9
SYNC_EVERY = 10  # hard target update period, in train_step calls
OBS, ACTIONS, HIDDEN = 4, 2, 32


class DQN(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(OBS, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, ACTIONS))
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.updates = 0  # train_step calls so far: the sync clock

    def forward(self, x):
        return self.online(x)


def build_model():
    return DQN()


def get_batch(batch_size: int, split: str = "train"):
    """Transitions (s, a, r, s', done) of one random walk, each s' the next transition's s; the reward is a
    smooth function of the state. The same call gives the same batch."""
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    walk = torch.randn(batch_size + 1, OBS, generator=g).mul(0.3).cumsum(0)  # (B + 1, OBS)
    return {
        "x": walk[:-1],
        "action": torch.randint(ACTIONS, (batch_size,), generator=g),
        "reward": torch.tanh(walk[:-1, 0]),
        "next_x": walk[1:],
        "done": (torch.rand(batch_size, generator=g) < 0.2).float(),
    }


def td_target(model, batch):
    with torch.no_grad():  # a bootstrapped target: no graph into either network
        next_q = model.target(batch["next_x"]).max(dim=1).values
    return batch["reward"] + GAMMA * (1 - batch["done"]) * next_q


def loss_fn(model, batch):
    q = model.online(batch["x"]).gather(1, batch["action"][:, None]).squeeze(1)
    return nn.functional.smooth_l1_loss(q, td_target(model, batch))


def sync(model):
    model.updates += 1
    if model.updates % SYNC_EVERY == 0:
        model.target.load_state_dict(model.online.state_dict())


def train_step(model, batch, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    sync(model)
    return loss.detach()
