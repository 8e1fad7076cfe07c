"""The docker backend: Compose api + lb per cell, docker stats samples."""
