"""Reading what a cell wrote: metrics, ramp steps, throttling, validity, and the verdicts (imports only core)."""
