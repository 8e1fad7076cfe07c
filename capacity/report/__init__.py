"""Tables, summaries and charts of a run folder, from its files and the search layer's results; reading only."""
