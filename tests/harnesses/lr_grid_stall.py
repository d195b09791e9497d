"""A clean model whose grid run stalls halfway through a job's second rate (run with steps=30): the
first rate has finished, and the last message the job streamed is a training-curve point, not a
rate's end. A timeout then must still keep the finished rate."""

import time

from clean_mlp import build_model, get_batch, num_classes  # noqa: F401

STEPS = 30  # the test's steps per rate
_finished_a_rate = False


def get_train_batch(batch_size: int, step: int):
    global _finished_a_rate
    if _finished_a_rate and step == 24:
        time.sleep(0.5)  # past the progress throttle (0.25 s): the point of step 25 streams
    if _finished_a_rate and step == 25:
        time.sleep(60)  # past the step-25 point: the call times out here
    _finished_a_rate = _finished_a_rate or step == STEPS - 1
    return get_batch(batch_size, "train")
