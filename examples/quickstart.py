"""Quickstart: WarpClassifier on BasicMotions (shipped with sktime).

    python examples/quickstart.py

Trains with default parameters on the official train split and prints the
test accuracy and the fit time.
"""

import time

from sktime.datasets import load_basic_motions

from skwarp import WarpClassifier


def main(n_epochs: int = 100) -> None:
    X_train, y_train = load_basic_motions(split="train", return_type="numpy3D")
    X_test, y_test = load_basic_motions(split="test", return_type="numpy3D")
    print(f"BasicMotions: {X_train.shape[0]} train / {X_test.shape[0]} test series, "
          f"{X_train.shape[1]} channels, length {X_train.shape[2]}")

    clf = WarpClassifier(n_epochs=n_epochs, random_state=0)  # 100: the default
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start

    accuracy = clf.score(X_test, y_test)
    print(f"test accuracy: {accuracy:.3f}")
    print(f"fit time: {fit_seconds:.1f} s ({len(clf.networks_)} networks of "
          f"{clf.n_epochs_} epochs; each root network has {clf.network_.n_params} weights)")


if __name__ == "__main__":
    main()
