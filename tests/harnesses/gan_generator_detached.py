"""Bug: train_step's generator step reads D on a detached fake, so no gradient reaches the generator and it
never trains. Declared adversarial like its clean twin: run_overfit_test still names every generator tensor
in params_not_updated."""

from gan_adversarial import (  # noqa: F401 - the clean harness but for train_step
    _only,
    adversarial,
    build_model,
    d_loss_fn,
    evaluate,
    g_loss_fn,
    get_batch,
    get_train_batch,
    loss_fn,
    make_optimizer,
    objective,
)


def train_step(model, batch, optimizer):
    real, z = batch["inputs"], batch["z"]
    optimizer.zero_grad(set_to_none=True)
    d_loss = d_loss_fn(model, real, model.sample(z).detach())
    d_loss.backward()
    _only(model, "discriminator")
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    g_loss = g_loss_fn(model, model.sample(z).detach())
    g_loss.backward()
    _only(model, "generator")
    optimizer.step()
    return {"loss": (d_loss + g_loss).item()}
