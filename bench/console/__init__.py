"""``python -m bench.console``: the web console's first render and live updates."""
