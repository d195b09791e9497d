"""Clean: a dataset with only a training split; get_batch refuses any other split with a
ValueError. inspect_data must report the test split as info, not as an error."""

from clean_mlp import build_model, get_batch as clean_batch, num_classes  # noqa: F401 - the harness exports them


def get_batch(batch_size: int, split: str = "train"):
    if split != "train":
        raise ValueError(f"unknown split {split!r}: this dataset only has 'train'")
    return clean_batch(batch_size, "train")
