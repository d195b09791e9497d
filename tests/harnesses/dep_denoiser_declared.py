"""Bug, declared: x_t is built in get_batch and forward calls model(x_t) alone, so t never
reaches the model. Nothing passes t to the model, so only the declaration names it:
check_dependencies at its defaults reports unused_input (error) for batch['t']."""

from dep_denoiser import Denoiser, get_batch as clean_batch, noisy

batch_roles = {"conditions": ["t"]}


def build_model():
    return Denoiser(use_t=False)


def get_batch(batch_size: int, split: str = "train"):
    batch = clean_batch(batch_size, split)
    return {"x_t": noisy(batch)} | batch  # x_t first: the input check_dependencies differentiates


def forward(model, batch):
    return model(batch["x_t"], None)


def loss_fn(model, batch):
    return ((forward(model, batch) - batch["noise"]) ** 2).mean()
