"""Clean: a two-layer GCN (Kipf & Welling) classifying the nodes of one graph, a 3-community block model. The
batch is the whole graph (get_batch ignores batch_size): its rows are nodes mixed through the normalised
adjacency, and each split is a mask of labelled nodes."""

import torch
from torch import nn
from torch.nn import functional as F

NODES, COMMUNITIES, FEATURES = 60, 3, 8
num_classes = COMMUNITIES


def _graph():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(COMMUNITIES).repeat_interleave(NODES // COMMUNITIES)
    same = labels[:, None] == labels[None, :]
    upper = (torch.rand(NODES, NODES, generator=g) < torch.where(same, 0.3, 0.02)).triu(1).float()
    adj = upper + upper.T + torch.eye(NODES)  # self-loops: each node keeps its own features
    degree = adj.sum(1).rsqrt()
    features = F.one_hot(labels, FEATURES).float() + torch.randn(NODES, FEATURES, generator=g)
    order = torch.randperm(NODES, generator=g)
    masks = {name: torch.zeros(NODES, dtype=torch.bool) for name in ("train", "test")}
    masks["train"][order[:15]] = True
    masks["test"][order[15:]] = True
    return features, degree[:, None] * adj * degree[None, :], labels, masks


FEATURES_, ADJ, LABELS, MASKS = _graph()


class GCN(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.first, self.second = nn.Linear(FEATURES, hidden), nn.Linear(hidden, COMMUNITIES)

    def forward(self, x, adj):
        return adj @ self.second(F.relu(adj @ self.first(x)))


def build_model():
    return GCN()


def get_batch(batch_size, split="train"):
    return {"x": FEATURES_, "adj": ADJ, "y": LABELS, "mask": MASKS[split]}


def forward(model, batch):
    return model(batch["x"], batch["adj"])


def loss_fn(model, batch):
    logits = forward(model, batch)
    return F.cross_entropy(logits[batch["mask"]], batch["y"][batch["mask"]])
