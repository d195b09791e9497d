"""Bug: the training step computes gradients but never calls optimizer.step()."""

from clean_mlp import build_model, get_batch, num_classes  # noqa: F401


def train_step(model, batch, optimizer):
    optimizer.zero_grad()
    x, y = batch
    loss = __import__("torch").nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return loss
