"""The pure pieces behind training-run findings and progress, on made-up numbers."""

import math

from implement_paper.tools.runtime.run_store import RunRecord, SeedRun
from implement_paper.tools.training.details import StreamedPoints
from implement_paper.tools.training.objective import direction
from implement_paper.tools.training.tool import add_points, progress_text
from implement_paper.tools.wire.details import Curve
from implement_paper.tools.worker.run_judges import loss_trend, non_finite_metrics, objective_verdict

RETURN = {"monitor": "return", "mode": "max"}


def history(values: list[float], every: int = 10) -> list[dict]:
    return [{"step": i * every, "metrics": {"return": v}} for i, v in enumerate(values)]


def test_objective_verdict_at_the_end_wants_an_improvement():
    assert objective_verdict(history([20, 60, 190]), RETURN, 0, final=True) is None
    flat = objective_verdict(history([20, 25, 20.1]), RETURN, 0, final=True)
    assert flat["code"] == "objective_not_improving" and "did not improve" in flat["message"]
    falling = objective_verdict(history([20, 12, 9]), RETURN, 0, final=True)
    assert "wrong way" in falling["message"] and falling["evidence"]["best_step"] == 0
    lower = {"monitor": "nll", "mode": "min"}
    assert (
        objective_verdict(
            [{"step": 0, "metrics": {"nll": 3.0}}, {"step": 5, "metrics": {"nll": 1.0}}], lower, 0, final=True
        )
        is None
    )
    assert objective_verdict(history([20]), RETURN, 0, final=True) is None  # one evaluation proves nothing
    assert objective_verdict(history([20, 9]), None, 0, final=True) is None  # no objective declared


def test_objective_verdict_mid_run_speaks_only_of_a_clear_repeated_fall():
    assert objective_verdict(history([20, 20, 20]), RETURN, 0, final=False) is None  # flat early on: wait
    assert objective_verdict(history([20, 15, 30]), RETURN, 0, final=False) is None  # one dip is noise
    assert objective_verdict(history([20, 14, 12]), RETURN, 0, final=False)["evidence"]["final"] is False
    nan_first = [{"step": 0, "metrics": {"return": math.nan}}, *history([20, 14, 12])[1:]]
    assert objective_verdict(nan_first, RETURN, 0, final=False) is None  # NaN values are not compared


def test_loss_trend():
    steps = 100
    assert loss_trend([1.0 - 0.005 * i for i in range(steps)], 0) is None  # falling: healthy
    assert loss_trend([1.386] * steps, 0)["code"] == "loss_not_decreasing"
    assert loss_trend([1.0 * 1.1**i for i in range(steps)], 0)["code"] == "diverged"
    assert loss_trend([1.386] * 20, 0) is None  # too short to say
    assert loss_trend([-5.0] * steps, 0) is None  # a negative loss has no scale to judge here
    assert [
        f["where"] for f in non_finite_metrics([{"step": 5, "metrics": {"a": 1.0, "b": math.nan, "c": math.inf}}], 0)
    ] == ["b", "c"]


def test_running_curve_keeps_a_grid_plus_the_latest_step_and_never_folds_back():
    curve = Curve()
    add_points(curve, StreamedPoints(step=list(range(0, 7)), loss=[1.0] * 7), stride=3)
    assert curve.step == [0, 3, 6] and curve.terms is None
    add_points(curve, StreamedPoints(step=[7, 8], loss=[0.5, math.nan], terms={"epsilon": [0.9, 0.8]}), stride=3)
    assert curve.step == [0, 3, 6, 8] and curve.loss[-1] is None
    assert curve.terms == {"epsilon": [None, None, None, 0.8]}  # logged from step 7 on; 8 kept as the latest
    add_points(curve, StreamedPoints(step=[2, 9], loss=[9.0, 0.4], terms={"epsilon": [0.1, 0.7]}), stride=3)
    assert curve.step == [0, 3, 6, 9] and curve.terms == {"epsilon": [None, None, None, 0.7]}


def test_progress_reads_seeds_times_steps():
    record = RunRecord(
        run_id="r",
        harness="h.py",
        created_at="t",
        steps=2000,
        lr=1e-3,
        batch_size=8,
        status="running",
        seeds=[
            SeedRun(seed=0, steps_done=2000, status="evaluating"),
            SeedRun(seed=1, steps_done=1500, status="running"),
            SeedRun(seed=2, steps_done=600, status="running"),
        ],
    )
    assert progress_text(record) == (
        "3 seeds x 2,000 steps: 4,100 of 6,000 steps done "
        "(seed 0 2,000 evaluating, seed 1 1,500 running, seed 2 600 running)"
    )


def test_direction_of_a_metric():
    assert direction("return", RETURN) == ("max", "objective")
    assert direction("val_loss", RETURN) == ("min", "name")
    assert direction("test_neg_elbo", None) == ("min", "name")
    assert direction("widgets", None) == ("max", "default")
