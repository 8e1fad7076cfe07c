"""The commands' logic: sweep, redline (knees), find (bisection), the fit and the prediction; they return results."""
