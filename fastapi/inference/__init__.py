"""Penguin species inference API: folded model in memory, msgspec hot path, hot reload from MLflow."""
