"""Bug: the small CNN gets raw 0-255 pixel values; get_batch forgot to scale and standardise them.

The first convolution's outputs are ~100x too large, and so are the logits: the loss at init is far
above ln(10)."""

from init_clean_cnn import build_model, num_classes, raw_pixels  # noqa: F401 - same model as the clean twin


def get_batch(batch_size: int, split: str = "train"):
    return raw_pixels(batch_size, split)  # the bug: no / 255, no standardisation
