"""argparse and the commands; writes the reports from what the search layer returns."""
