"""Bug: the class ids are stored numbered 1..4 (as in the dataset's CSV) and never shifted
to 0..3, although num_classes = 4: label 4 is out of range for 4 logits."""

from clean_mlp import build_model, get_batch as zero_based_batch, num_classes  # noqa: F401 - the harness exports them


def get_batch(batch_size: int, split: str = "train"):
    x, labels = zero_based_batch(batch_size, split)
    class_ids = labels + 1  # the ids as stored: 1..4
    return x, class_ids  # bug: should return class_ids - 1
