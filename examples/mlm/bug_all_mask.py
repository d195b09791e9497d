"""Planted bug: no 80/10/10, every selected token becomes [MASK] (the model never learns to
check visible tokens). Everything else is the clean harness, bert.py."""

import bert
from bert import *  # noqa: F403 - the clean harness, with one constant replaced

bert.TO_MASK = TO_MASK = 1.0  # BUG: the paper's 0.8
