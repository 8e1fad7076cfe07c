"""The swarm backend: a deployed Swarm stack's services updated per cell, sampled on their nodes."""
