"""Server-side helpers several tools share (plots, reference levels)."""
