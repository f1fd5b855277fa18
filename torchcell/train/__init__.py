"""Training: configs, the loop, metrics."""
