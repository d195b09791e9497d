"""Clean: names that look like schedules, held fixed by design. A LayerNorm written by hand keeps its
shift in a buffer called `beta` (per feature, all zeros); train_step reports the constant learning rate
(no make_scheduler: the paper trains at one lr) and a fixed softmax temperature. run_overfit_test and
inspect_model must give no warning (a flat lr with no scheduler is only a note)."""

import torch
from torch import nn
from torch.nn import functional as F

TEMPERATURE = 0.5


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.register_buffer("gamma", torch.ones(32))
        self.register_buffer("beta", torch.zeros(32))  # a fixed shift per feature, not a schedule
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        h = F.layer_norm(self.body(x), (32,)) * self.gamma + self.beta
        return self.head(torch.relu(h)) / TEMPERATURE


def build_model():
    return Net()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    x = torch.randn(batch_size, 16, generator=g)
    return x, (x[:, :4].argmax(dim=1))


def train_step(model, batch, optimizer):
    optimizer.zero_grad()
    x, y = batch
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach(), "lr": optimizer.param_groups[0]["lr"], "temperature": TEMPERATURE}
