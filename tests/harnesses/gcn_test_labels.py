"""Bug: the training mask labels every node, test nodes included, so the test accuracy measures memorised
labels. inspect_data names the nodes both masks label (split_overlap)."""

import torch
from gcn_nodes import ADJ, FEATURES_, LABELS, MASKS, build_model, forward, loss_fn, num_classes  # noqa: F401 - the clean GCN


def get_batch(batch_size, split="train"):
    mask = torch.ones_like(MASKS["train"]) if split == "train" else MASKS[split]
    return {"x": FEATURES_, "adj": ADJ, "y": LABELS, "mask": mask}
