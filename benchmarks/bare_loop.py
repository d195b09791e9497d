"""The overhead benchmark's baseline: what a user would write by hand, in a fresh process.

Usage: python bare_loop.py HARNESS STEPS BATCH_SIZE THREADS. Prints one JSON line: the wall time of
the loop itself (model built, batch drawn, STEPS Adam steps, one read of the last loss),
after a warm-up step."""

import json
import sys
import time

import torch

harness_path, steps, batch_size, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
namespace: dict = {}
exec(compile(open(harness_path).read(), harness_path, "exec"), namespace)

# One untimed step on a throwaway model first: torch imports much of itself on the first
# forward, backward and optimizer step (a second or more), which the server's warm worker
# has already paid. Timing after it compares steady state with steady state.
warm = torch.nn.Linear(4, 2)
torch.nn.functional.cross_entropy(warm(torch.randn(3, 4)), torch.tensor([0, 1, 0])).backward()
torch.optim.Adam(warm.parameters()).step()

started = time.perf_counter()
torch.manual_seed(0)
model = namespace["build_model"]()
inputs, targets = namespace["get_batch"](batch_size, "train")
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for _ in range(steps):
    optimizer.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
final_loss = loss.item()
loop_s = time.perf_counter() - started
print(json.dumps({"loop_s": loop_s, "final_loss": final_loss}))
