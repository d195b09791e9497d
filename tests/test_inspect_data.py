"""inspect_data on buggy fixtures and their clean twins, through the MCP client."""

import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


def _tensor(result, split, path):
    summary = next(s for s in result["details"]["splits"] if s["split"] == split)
    return next(t for t in summary["tensors"] if t["path"] == path)


@pytest.mark.parametrize("harness", ["clean_mlp.py", "data_clean_images.py", "data_dict_batch.py"])
async def test_clean_standardised_data_gets_no_warning(client, harness):
    result = await call(client, "inspect_data", {"harness": harness})
    assert_clean(result)
    assert [s["deterministic"] for s in result["details"]["splits"]] == [True, True]
    assert result["details"]["overlap"][0]["overlapping"] == 0


async def test_shared_table_and_shifted_lm_labels_are_not_mechanism_bugs(client):
    """A positional table repeated per example (the same in every split) is no shared noise draw; labels that
    are the input ids on one response span per row (loss_fn shifts them) are no label leak."""
    assert_clean(await call(client, "inspect_data", {"harness": "data_mechanism_lookalikes.py"}))


async def test_image_batch_reports_per_channel_stats_and_label_histogram(client):
    result = await call(client, "inspect_data", {"harness": "data_clean_images.py", "batch_size": 64})
    inputs = _tensor(result, "train", "batch[0]")
    assert inputs["role"] == "inputs" and inputs["shape"] == [64, 3, 8, 8] and inputs["dtype"] == "float32"
    assert len(inputs["channels"]["mean"]) == 3 and all(abs(m) < 0.1 for m in inputs["channels"]["mean"])
    labels = _tensor(result, "train", "batch[1]")["labels"]
    assert labels["num_classes"] == 4 and sum(count for _, count in labels["histogram"]) == 64


async def test_dict_batch_finds_roles_and_infers_num_classes(client):
    result = await call(client, "inspect_data", {"harness": "data_dict_batch.py", "splits": ["train"]})
    assert result["details"]["splits"][0]["structure"] == "{'x': float32[256, 16], 'y': int64[256]}"
    assert _tensor(result, "train", "batch['x']")["role"] == "inputs"
    assert _tensor(result, "train", "batch['y']")["labels"]["max"] == 3
    assert codes(result, "info") == {"num_classes_inferred"}


async def test_unsupported_split_is_info_not_error(client):
    result = await call(client, "inspect_data", {"harness": "data_train_only.py"})
    assert_clean(result)
    assert codes(result, "info") == {"split_unsupported"}
    assert [s["supported"] for s in result["details"]["splits"]] == [True, False]


async def test_raw_pixels_are_unnormalized(client):
    result = await call(client, "inspect_data", {"harness": "data_raw_pixels.py", "splits": ["train"]})
    assert result["status"] == "warn" and codes(result) == {"unnormalized_inputs"}
    assert finding_of(result, "unnormalized_inputs")["evidence"]["mean"] > 100


async def test_pixels_scaled_twice_are_unnormalized(client):
    result = await call(client, "inspect_data", {"harness": "data_scaled_twice.py", "splits": ["train"]})
    assert codes(result, "warning") == {"unnormalized_inputs"}
    assert finding_of(result, "unnormalized_inputs")["evidence"]["std"] < 0.01


async def test_split_overlap_counts_and_locates_shared_examples(client):
    result = await call(client, "inspect_data", {"harness": "data_split_overlap.py"})
    assert result["status"] == "fail" and codes(result) == {"split_overlap"}
    overlap = result["details"]["overlap"][0]
    assert overlap["overlapping"] == 50 and overlap["sampled"] == [800, 250]
    assert overlap["pairs"][0] == [750, 0]


async def test_get_batch_ignoring_split_overlaps_completely(client):
    result = await call(client, "inspect_data", {"harness": "data_ignores_split.py", "overlap_sample": 500})
    found = finding_of(result, "split_overlap")
    assert found["evidence"]["overlapping"] == 500 and "ignore its split" in found["message"]


async def test_overlap_check_can_be_skipped(client):
    result = await call(client, "inspect_data", {"harness": "data_ignores_split.py", "overlap_sample": 0})
    assert_clean(result)
    assert result["details"]["overlap"] == []


async def test_one_based_labels_are_out_of_range(client):
    result = await call(client, "inspect_data", {"harness": "data_labels_off_by_one.py", "splits": ["train"]})
    found = finding_of(result, "label_out_of_range")
    assert found["severity"] == "error" and found["evidence"]["max"] == 4 and "numbered from 1" in found["message"]


async def test_nan_feature_is_located_and_nan_does_not_look_nondeterministic(client):
    result = await call(client, "inspect_data", {"harness": "data_nan_feature.py", "splits": ["train"]})
    assert codes(result) == {"non_finite_inputs"}
    assert finding_of(result, "non_finite_inputs")["evidence"]["dim1_indices"] == [3]
    assert _tensor(result, "train", "batch[0]")["mean"] is not None  # statistics over the finite values


async def test_global_rng_batch_is_nondeterministic(client):
    result = await call(client, "inspect_data", {"harness": "data_global_rng.py", "splits": ["train"]})
    found = finding_of(result, "nondeterministic_batch")
    assert found["severity"] == "error" and found["evidence"]["differing"]["batch[0]"]["elements"] == 256 * 16
    assert result["details"]["splits"][0]["deterministic"] is False


async def test_exception_in_train_split_is_user_code_error(client):
    # load_images(256, "train") is not a get_batch: indexing its split table with 256 raises KeyError.
    args = {"harness": "data_clean_images.py", "names": {"get_batch": "load_images"}, "splits": ["train"]}
    result = await call(client, "inspect_data", args)
    assert result["status"] == "error" and codes(result) == {"user_code_error"}
    assert finding_of(result, "user_code_error")["where"].startswith("data_clean_images.py:")


@pytest.mark.parametrize("splits", [["train", "train"], ["train", ""], []])
async def test_bad_splits_are_refused_with_a_reason(client, splits):
    result = await client.call_tool("inspect_data", {"harness": "clean_mlp.py", "splits": splits})
    assert result.is_error and "split" in result.content[0].text


@pytest.mark.parametrize(
    "harness",
    ["data_digits_clean.py", "data_token_batch.py", "data_padded_custom_index.py", "data_multi_input_clean.py"],
)
@pytest.mark.slow
async def test_normalised_digits_token_ids_padding_and_dict_inputs_are_clean(client, harness):
    result = await call(client, "inspect_data", {"harness": harness})
    assert_clean(result)


@pytest.mark.slow
async def test_raw_digits_0_to_16_are_unnormalized_whatever_their_std(client):
    result = await call(client, "inspect_data", {"harness": "data_digits_raw.py", "splits": ["train"]})
    found = finding_of(result, "unnormalized_inputs")
    assert found["evidence"]["pixel_levels"] == 16 and found["evidence"]["std"] < 10  # the old scale rule missed it
    assert "0..16" in found["message"] and "Divide by 16" in found["suggestion"]


async def test_padding_targets_are_counted_apart_not_out_of_range(client):
    result = await call(
        client, "inspect_data", {"harness": "data_token_batch.py", "splits": ["train"], "batch_size": 64}
    )
    labels = _tensor(result, "train", "batch[1]")["labels"]
    assert labels["min"] >= 0 and labels["ignored"] > 0 and labels["ignore_index"] == -100
    assert _tensor(result, "train", "batch[0]")["pixel_levels"] is None  # int64 (B, T): token ids


async def test_padding_that_is_not_the_ignore_index_is_out_of_range(client):
    result = await call(client, "inspect_data", {"harness": "data_padded_with_minus_one.py", "splits": ["train"]})
    assert codes(result, "error") == {"label_out_of_range"}
    assert finding_of(result, "label_out_of_range")["evidence"]["min"] == -1


async def test_every_input_of_a_dict_batch_is_judged(client):
    result = await call(client, "inspect_data", {"harness": "data_multi_input.py", "splits": ["train"]})
    assert codes(result, "warning") == {"unnormalized_inputs"}
    found = finding_of(result, "unnormalized_inputs")
    assert found["where"] == "train batch['image']" and found["evidence"]["pixel_levels"] == 255


async def test_shared_noise_without_a_test_split_is_compared_with_a_later_training_batch(client):
    result = await call(client, "inspect_data", {"harness": "data_shared_noise_train_only.py"})
    found = finding_of(result, "noise_shared_across_batch")
    assert found["severity"] == "warning" and found["evidence"]["splits"] == ["train", "get_train_batch step 1"]
