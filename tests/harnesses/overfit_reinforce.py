"""Clean twin: REINFORCE with normalised advantages on a contextual bandit (4 contexts, 3 arms, reward 1
for the context's best arm). get_train_batch(batch_size, step, model) samples actions from the current
policy: on-policy data. On one sample the normalised advantage is 0, so size 1 gets no gradient by
construction; run_overfit_test must say so as info, judge sizes 10 and 100, and raise nothing."""

import torch
from torch import nn

num_classes = 3  # arms: a custom loss_fn, so check_initialization must not compare it with ln 3
CONTEXTS = 4
BEST = torch.tensor([0, 2, 1, 2])  # the rewarded arm of each context
objective = {"monitor": "mean_reward", "mode": "max"}


def build_model():
    return nn.Linear(CONTEXTS, num_classes)  # logits of a softmax policy over arms


def _rollouts(batch_size: int, seed: int, model=None):
    g = torch.Generator().manual_seed(seed)
    context = torch.randint(CONTEXTS, (batch_size,), generator=g)
    obs = nn.functional.one_hot(context, CONTEXTS).float()
    with torch.no_grad():
        probs = torch.softmax(model(obs), -1) if model is not None else torch.full((batch_size, num_classes), 1 / 3)
    actions = torch.multinomial(probs, 1, generator=g).squeeze(1)
    reward = (actions == BEST[context]).float()
    return {"obs": obs, "actions": actions, "advantage": normalise(reward), "reward": reward}


def normalise(reward):
    return (reward - reward.mean()) / (reward.std(correction=0) + 1e-8)  # 0 for a single sample


def get_batch(batch_size: int, split: str = "train"):
    return _rollouts(batch_size, {"train": 0, "test": 1}[split])  # a uniform behaviour policy


def get_train_batch(batch_size: int, step: int, model):
    return _rollouts(batch_size, 1000 + step, model)


def loss_fn(model, batch):
    logp = torch.log_softmax(model(batch["obs"]), -1).gather(1, batch["actions"][:, None]).squeeze(1)
    return -(logp * batch["advantage"]).mean()  # the REINFORCE surrogate: its gradient is the policy gradient


def evaluate(model):
    obs = torch.eye(CONTEXTS)
    with torch.no_grad():
        probs = torch.softmax(model(obs), -1)
    return {"mean_reward": float(probs[torch.arange(CONTEXTS), BEST].mean())}
