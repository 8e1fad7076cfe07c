"""Running one cell into its folder, the run folder's run.json, turns on a shared engine."""
