"""The runs layer: settings, run_search, RoBoT runs for many seeds, compare, the demo, result files."""
