"""The hand-worked cases an agent writes for DQN (check_known_values), and the planted bugs each catches."""

KNOWN = {
    # two transitions, r = 1, max next Q = 2 and 3; the second is terminal (done=1): y = 1 + 0.99 * 2, then 1
    "td_target": {"args": [[1.0, 1.0], [[0.5, 2.0], [3.0, 1.0]], [0.0, 1.0]], "expected": [2.98, 1.0]},
    # Q(s, a) of the action taken (action 0 in both rows), not the greedy one
    "chosen_q": {"args": [[[1.0, 2.0], [3.0, 0.5]], [0, 0]], "expected": [1.0, 3.0]},
    # epsilon halfway through its decay: 0.05 + 0.95 / 2
    "epsilon": {"args": [750], "expected": 0.525},
}
BUGS = {
    "bug_no_terminal_mask.py": "td_target",
    "bug_gamma_one.py": "td_target",
    "bug_wrong_action_index.py": "chosen_q",
    "bug_epsilon_stuck.py": "epsilon",
}
