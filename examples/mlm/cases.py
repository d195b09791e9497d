"""The hand-worked cases an agent writes for the masked LM (check_known_values), and the planted bugs each catches."""

KNOWN = {
    # two rows, the first padded at the end. Selected: row 0 positions 0 and 2 (draw < 0.15; position 3 is padding),
    # row 1 position 1. how 0.5 -> [MASK] (1); 0.85 -> the random token (4); 0.95 -> kept. Labels -100 elsewhere.
    "corrupt": {
        "args": [
            [[5, 6, 7, 0], [8, 9, 10, 11]],
            [[True, True, True, False], [True, True, True, True]],
            [[0.1, 0.9, 0.05, 0.01], [0.9, 0.1, 0.9, 0.9]],
            [[0.5, 0.5, 0.95, 0.5], [0.5, 0.85, 0.5, 0.5]],
            [[9, 9, 9, 9], [4, 4, 4, 4]],
        ],
        "expected": [[[1, 6, 7, 0], [8, 4, 10, 11]], [[5, -100, 7, -100], [-100, 9, -100, -100]]],
    },
}
BUGS = {"bug_loss_all_positions.py": "corrupt", "bug_label_leak.py": "corrupt", "bug_all_mask.py": "corrupt"}
