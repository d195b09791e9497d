"""Bug: the clean twin's attention without the 1/sqrt(d_k) scale and with its projections drawn from
N(0, 1) (nn.MultiheadAttention always scales, so there only the N(0, 1) init is planted). The rows
start nearly one-hot: check_initialization must report saturated_attention with the numbers."""

import init_attention_clean as clean
from init_attention_clean import get_batch, num_classes  # noqa: F401 - the clean twin's task
from torch import nn


def build_model(attention: str = "manual"):
    model = clean.TinyLM(attention, scaled=False)
    for name, param in model.attn.named_parameters():
        if param.dim() == 2 and "out_proj" not in name and "proj.weight" != name:
            nn.init.normal_(param, 0.0, 1.0)  # the bug: N(0, 1), not scaled to the fan-in
    return model
