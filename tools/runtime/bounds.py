"""Bounds shared by the tools' argument schemas: every name, number and list an agent can send.

An unbounded argument costs the server before any check runs (a megabyte-long metric name took
minutes of CPU and a gigabyte of memory in compare_metrics), and a number that passes the schema
but not the worker (a seed of 10**20, an atol of 1e999, i.e. Infinity) fails later as the user's
code's fault. These types refuse both at validation, with a message naming the argument and bound.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

NAME_MAX = 200  # characters of a metric, split, variant or function name (evaluate's names are cut there too)
MAX_METRICS = 100  # metrics one call may name (reported, measured, tolerances, reach)
MAX_SEED_VALUES = 1000  # values over seeds for one measured metric
SEED_MAX = 2**31 - 1  # inside every seeding function's range (numpy's is 2**32 - 1)

Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX)]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
