"""One graph as the batch (transductive node classification, GCN): its rows are nodes that the model mixes by
design and that every split shares. The tools that assume independent rows must say so, not raise
batch_dependence or split_overlap on a correct GCN; a test node labelled for training is still a split_overlap."""

import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


async def test_a_correct_gcn_draws_no_warning_from_the_checks_that_assume_independent_rows(client):
    data = await call(client, "inspect_data", {"harness": "gcn_nodes.py"})
    assert "split_overlap" not in codes(data), data["summary"]
    assert "train, test share one graph's nodes by design and label disjoint ones" in data["summary"]
    for args in ({}, {"mode": "both", "seq_dim": 1}):
        result = await call(client, "check_dependencies", {"harness": "gcn_nodes.py", **args})
        assert_clean(result)
        found = finding_of(result, "rows_interact")
        assert found["where"] == "batch['adj']" and found["evidence"]["rows"] == 60
        assert result["details"]["batch"] is None  # not measured, and said so
        if args:  # neither half applies: nothing may claim the batch half ran
            assert finding_of(result, "causal_not_applicable")["message"].endswith("was skipped")


async def test_test_nodes_labelled_for_training_are_a_split_overlap(client):
    result = await call(client, "inspect_data", {"harness": "gcn_test_labels.py"})
    found = finding_of(result, "split_overlap")
    assert found["severity"] == "error" and found["evidence"]["mask"] == "batch['mask']"
    assert found["evidence"]["count"] == 45 and "labelled nodes must not be" in found["message"]


async def test_overfit_runs_a_whole_graph_batch_once_and_says_why(client):
    """get_batch ignores batch_size: three runs on the same 60 nodes labelled '1, 10, 100 example(s)' said
    nothing true; one run and an info say what happened."""
    result = await call(client, "run_overfit_test", {"harness": "gcn_nodes.py", "lr": 0.01, "steps": 300})
    assert [size["size"] for size in result["details"]["sizes"]] == [1]
    found = finding_of(result, "size_skipped")
    assert found["severity"] == "info" and found["evidence"] == {"sizes": [1, 10, 100], "rows": 60}
    assert result["status"] == "pass", result["summary"]


async def test_a_loss_over_every_node_is_named_by_the_loss_probe(client):
    clean = await call(client, "check_dependencies", {"harness": "gcn_nodes.py"})
    assert "loss_on_unselected_positions" not in codes(clean)
    broken = await call(client, "check_dependencies", {"harness": "gcn_loss_all_nodes.py"})
    found = finding_of(broken, "loss_on_unselected_positions")
    assert found["severity"] == "error" and found["evidence"]["mask"] == "batch['mask']", broken["summary"]
