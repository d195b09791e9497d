"""One forward pass traced for differentiation, and the vector-Jacobian products the checks read off it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..worker.failures import HarnessError
from ..worker.job import JobContext
from .details import Cost

# Cotangents per batched backward: each holds about one copy of the activations' gradients.
MEMORY_BUDGET_BYTES = 512 * 2**20
# Up to this many cotangents go through plain backward calls: vmap's batching costs more than it
# saves for a few (4 cuts at 1M, T=512: 2.83 units vmapped, 2.41 looped).
LOOPED_COTANGENTS = 4


def reseed(seed: int) -> None:
    """torch.manual_seed for the generators in use, at a fraction of its cost: torch.manual_seed also queues a seed
    for every accelerator not yet initialised and formats the call stack for each (about 0.2 ms on a CPU-only
    machine, more than a small model's forward), and the probes reseed before every pass."""
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(seed)
    if torch.backends.mps.is_available():
        torch.mps.manual_seed(seed)


@dataclass(frozen=True)
class Axis:
    """What dependence is measured along: examples (dim 0) or positions (seq_dim)."""

    mode: str  # "batch" or "causal"
    dim: int
    size: int

    def forbidden(self) -> torch.Tensor:
        """(size, size) mask over (output index, input index) pairs that must not depend."""
        out_index = torch.arange(self.size).view(-1, 1)
        in_index = torch.arange(self.size).view(1, -1)
        return in_index != out_index if self.mode == "batch" else in_index > out_index

    def fits(self, tensor: torch.Tensor) -> bool:
        return tensor.dim() > self.dim and tensor.shape[self.dim] == self.size


def _nothing_spent() -> Cost:
    """What the check spends, counted as it goes and reported so the agent can weigh the exhaustive option."""
    return Cost(forward_passes=0, cotangents=0, backward_calls=0, batched=True, seconds=0.0)


@dataclass
class ForwardTrace:
    """One forward pass in eval mode, with what is needed to differentiate it."""

    output: torch.Tensor
    leaf: torch.Tensor | None  # differentiated tensor: the float inputs or the embedding output
    method: str
    # (module name, module type, input tensors, output tensors), in the order the hooks fired
    calls: list[tuple[str, str, list[torch.Tensor], list[torch.Tensor]]] = field(default_factory=list)
    attention: list[dict[str, Any]] = field(default_factory=list)  # softmax / SDPA calls over (T, T) scores
    cost: Cost = field(default_factory=_nothing_spent)
    arguments: dict[int | str, Any] = field(
        default_factory=dict
    )  # the model's top-level call: position or name -> value

    def activation_bytes(self) -> int:
        unique = {id(t): t for _, _, ins, outs in self.calls for t in ins + outs}
        return sum(t.numel() * t.element_size() for t in unique.values()) or self.output.numel() * 4


@dataclass(frozen=True)
class Batch:
    """The checked batch and which of its elements is the input to differentiate or perturb."""

    value: Any
    key: int | str | None  # None: the batch is the input tensor itself

    @property
    def inputs(self) -> torch.Tensor:
        return self.value if self.key is None else self.value[self.key]

    def with_inputs(self, inputs: torch.Tensor) -> Any:
        """The batch with its input replaced (containers copied, the user's batch untouched)."""
        return self._rebuilt(lambda key, value: inputs if key == self.key else value)

    def first_example(self) -> Batch:
        """The batch cut to its first example: every tensor with the input's dim-0 size is sliced."""
        size = self.inputs.shape[0]
        sliced = self._rebuilt(
            lambda _, v: v[:1] if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == size else v
        )
        return Batch(sliced, self.key)

    def _rebuilt(self, change) -> Any:
        """A copy of the batch with change(key, value) for each element (the batch itself when it is the input)."""
        if self.key is None:
            return change(None, self.value)
        if isinstance(self.value, dict):
            return {key: change(key, value) for key, value in self.value.items()}
        items = [change(key, value) for key, value in enumerate(self.value)]
        return type(self.value)(*items) if hasattr(self.value, "_fields") else type(self.value)(items)


def output_tensor(output: Any) -> torch.Tensor:
    """The model's prediction: the output itself, the first tensor of a tuple, or `logits`."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    if isinstance(output, dict):
        for key in ("logits", "output", "out"):
            if isinstance(output.get(key), torch.Tensor):
                return output[key]
    raise HarnessError(
        f"the model returned {type(output).__name__}; check_dependencies needs a tensor, a tuple starting "
        "with one, or a dict with a 'logits' key",
        where="build_model",
    )


def model_output(ctx: JobContext, model: nn.Module, batch: Any) -> torch.Tensor:
    """The prediction on `batch`, through the harness's forward(model, batch) when it defines one."""
    return output_tensor(ctx.harness.forward(model, batch))


def _direction(tensor: torch.Tensor, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(tensor.shape, generator=generator).to(device=tensor.device, dtype=tensor.dtype)


def _gradients(tensor: torch.Tensor, leaf: torch.Tensor, cotangents: torch.Tensor, cost: Cost) -> torch.Tensor | None:
    """d(tensor . cotangent_k)/d leaf for every k: one batched backward, or one per k when they are
    few or an op has no vmap rule."""
    cost.cotangents += len(cotangents)
    if cost.batched and len(cotangents) > LOOPED_COTANGENTS:
        try:
            cost.backward_calls += 1
            (grad,) = torch.autograd.grad(
                tensor, leaf, cotangents, retain_graph=True, allow_unused=True, is_grads_batched=True
            )
            return grad
        except RuntimeError:  # no batching rule for some op of the user's model: fall back to a loop
            cost.batched = False
    cost.backward_calls += len(cotangents)
    grads = [torch.autograd.grad(tensor, leaf, c, retain_graph=True, allow_unused=True)[0] for c in cotangents]
    return None if grads[0] is None else torch.stack(grads)


def masked_vjp_norms(
    trace: ForwardTrace, tensor: torch.Tensor, axis: Axis, masks: torch.Tensor, seed: int, per_example: bool = False
) -> torch.Tensor:
    """Norm of the leaf's gradient at each input index, for the output slices each mask selects,
    projected on a random direction. Mask k is a (size,) bool over the output's examples or
    positions: (K, size) out. With per_example, mask k is (examples, size) and each example is
    read apart: (K, examples, size) out."""
    examples = tensor.shape[0]
    norms = torch.zeros(len(masks), *((examples,) if per_example else ()), axis.size, dtype=torch.float64)
    if not tensor.requires_grad:
        return norms
    direction = _direction(tensor, seed)
    chunk = max(1, MEMORY_BUDGET_BYTES // (2 * trace.activation_bytes()))
    shape = [1] * tensor.dim()
    shape[axis.dim] = axis.size
    if per_example:
        shape[0] = examples
    for start in range(0, len(masks), chunk):
        part = masks[start : start + chunk].to(device=tensor.device, dtype=tensor.dtype)
        grad = _gradients(tensor, trace.leaf, direction * part.view(len(part), *shape), trace.cost)
        if grad is not None:
            grad = grad.detach().movedim(axis.dim + 1, 2 if per_example else 1)
            per_index = grad.reshape(len(part), *((examples,) if per_example else ()), axis.size, -1)
            norms[start : start + len(part)] = per_index.double().norm(dim=-1).cpu()
    return norms
