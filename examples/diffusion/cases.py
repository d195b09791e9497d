"""The hand-worked cases an agent writes for DDPM (check_known_values), and the planted bugs each catches."""

KNOWN = {
    # three betas: abar_t = prod_{s<=t}(1 - beta_s), so abar at t=0 is 1 - beta_1 (not 1) and at t=T-1 the full product
    "alpha_bar": {"args": [[0.1, 0.2, 0.5]], "expected": [0.9, 0.72, 0.36]},
    # the schedule runs from beta_1 to beta_T, both ends reached
    "beta_schedule": {"args": [3, 0.1, 0.3], "expected": [0.1, 0.2, 0.3]},
}
BUGS = {"bug_abar_off_by_one.py": "alpha_bar", "bug_constant_beta.py": "beta_schedule"}
