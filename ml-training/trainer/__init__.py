"""One-shot trainer: fits the penguin classifier and registers it in MLflow."""
