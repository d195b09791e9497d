"""Bug: log-compressed features computed as log(relu(h)); ReLU outputs exact zeros, so log gives -inf and the
loss is NaN from the very first step."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from grad_log_zero import build_model  # noqa: F401 - the same buggy LogCompress module
