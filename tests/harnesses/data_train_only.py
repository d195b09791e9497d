"""Clean: a dataset with only a training split; get_batch refuses any other split with a
ValueError. inspect_data must report the test split as info, not as an error."""

from clean_mlp import build_model, num_classes  # noqa: F401 - the harness exports them
from clean_mlp import get_batch as clean_batch


def get_batch(batch_size: int, split: str = "train"):
    if split != "train":
        raise ValueError(f"unknown split {split!r}: this dataset only has 'train'")
    return clean_batch(batch_size, "train")
