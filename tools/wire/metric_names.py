"""Which way is better for a metric, guessed from its name when nobody said.

Plain Python (no torch): the server's compare_metrics and the worker's run_ablation use the
same guess. A name is split into words ("test_neg_elbo" -> test, neg, elbo); a word that
negates ("neg", "negative") flips the higher-is-better words after it, so "neg_elbo" and
"negative_log_likelihood" are lower-is-better while "elbo" is higher. A name with words of
both kinds, or of neither, is ambiguous: the caller must ask for the direction.
"""

from __future__ import annotations

import re
from typing import Literal

LOWER = frozenset(
    {"loss", "nll", "nelbo", "error", "err", "errors", "perplexity", "ppl", "bpd", "bits", "bpc", "mse", "mae",
     "rmse", "fid", "kid", "wer", "cer", "regret", "cost", "distance", "divergence", "kl", "lpips"}
)  # fmt: skip
HIGHER = frozenset(
    {"accuracy", "acc", "return", "returns", "reward", "rewards", "elbo", "bleu", "rouge", "f1", "auc", "auroc",
     "precision", "recall", "iou", "miou", "map", "psnr", "ssim", "likelihood", "top1", "top5", "r2", "score",
     "success", "correlation"}
)  # fmt: skip
NEGATIONS = frozenset({"neg", "negative", "minus"})


def words(name: str) -> list[str]:
    """test_accuracy -> [test, accuracy]; valLoss -> [val, loss]; top1-acc -> [top1, acc]."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def guess_mode(name: str) -> Literal["max", "min"] | None:
    """ "max" when higher is better, "min" when lower is, None when the name does not say."""
    lower = higher = False
    negated = False
    for word in words(name):
        if word in NEGATIONS:
            negated = True
        elif word in LOWER:
            lower = True
        elif word in HIGHER:
            lower, higher = (True, higher) if negated else (lower, True)
    if lower == higher:
        return None
    return "min" if lower else "max"
