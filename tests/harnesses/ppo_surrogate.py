"""Clean: PPO's clipped surrogate on a fixed batch of stored transitions (no environment: the mechanism only).
The batch carries the rollout policy's log-probabilities, so the ratio starts at 1 and its gradient flows
through the current policy's log-probabilities. The loss returns its terms with their graphs, so gradient_check
differentiates each."""

import torch
from torch import nn
from torch.distributions import Categorical

OBS, ACTIONS, CLIP = 4, 2, 0.2


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.pi = nn.Sequential(nn.Linear(OBS, 32), nn.Tanh(), nn.Linear(32, ACTIONS))
        self.v = nn.Sequential(nn.Linear(OBS, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, obs):
        return self.pi(obs)


def build_model():
    return ActorCritic()


def get_batch(batch_size, split="train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    obs = torch.randn(batch_size, OBS, generator=g)
    actions = torch.randint(0, ACTIONS, (batch_size,), generator=g)
    with torch.no_grad():  # the rollout policy: a fixed random one, stored with the transitions
        old_logp = Categorical(logits=torch.randn(batch_size, ACTIONS, generator=g)).log_prob(actions)
    advantages = torch.randn(batch_size, generator=g)
    return {"obs": obs, "actions": actions, "old_logp": old_logp, "advantages": advantages,
            "returns": advantages + 0.5}  # fmt: skip


def surrogate_terms(model, batch, old_logp_of):
    """The loss dict; `old_logp_of(logp)` gives the rollout policy's log-probabilities."""
    dist = Categorical(logits=model(batch["obs"]))
    logp = dist.log_prob(batch["actions"])
    ratio = torch.exp(logp - old_logp_of(logp))
    adv = batch["advantages"]
    policy = -torch.min(ratio * adv, ratio.clamp(1 - CLIP, 1 + CLIP) * adv).mean()
    value = (model.v(batch["obs"]).squeeze(-1) - batch["returns"]).pow(2).mean()
    entropy = dist.entropy().mean()
    return {"loss": policy + 0.5 * value - 0.01 * entropy, "policy_loss": policy, "value_loss": value,
            "entropy": entropy}  # fmt: skip


def loss_fn(model, batch):
    return surrogate_terms(model, batch, lambda logp: batch["old_logp"])
