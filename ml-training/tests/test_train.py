from trainer.data import SPECIES, load_data
from trainer.settings import Settings
from trainer.train import train


def test_stratified_reproducible_training_meets_the_accuracy_bar():
    X, y = load_data()
    settings = Settings(train_test_size=0.2, train_seed=42)
    first, second = train(X, y, settings), train(X, y, settings)
    assert first.metrics["accuracy"] >= 0.95 and first.metrics["f1_macro"] >= 0.95
    assert list(first.X_test.index) == list(second.X_test.index)
    assert first.metrics == second.metrics
    assert len(first.X_test) == 67
    share = y.value_counts(normalize=True)
    test_share = first.y_test.value_counts(normalize=True)
    assert all(abs(test_share[s] - share[s]) < 0.02 for s in SPECIES)
