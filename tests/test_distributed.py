"""Scale-out through joblib's dask backend on a local dask.distributed cluster:
the same model selection, run on worker processes, gives the same results."""

import joblib
import numpy as np
import pandas as pd
import pytest
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER
from distributed import Client, LocalCluster, get_task_stream
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sktime.datasets import load_airline, load_basic_motions
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter

from skwarp import WarpClassifier, WarpForecaster

FAST = {**TINY_CLASSIFIER, "n_epochs": 2}


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def motions():
    X, y = load_basic_motions(split="train", return_type="numpy3D")
    return X, y


def _on_cluster(client, work):
    """Run ``work()`` under joblib's dask backend; return its result and the
    number of tasks the cluster's workers ran."""
    with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        result = work()
    return result, len(tasks.data)


def test_grid_search_on_dask_matches_local(client, motions):
    X, y = motions
    grid = GridSearchCV(WarpClassifier(**FAST), {"root_width": [4, 6], "lr": [1e-3, 3e-3]},
                        cv=2)
    distributed, n_tasks = _on_cluster(client, lambda: clone(grid).set_params(n_jobs=-1)
                                       .fit(X, y))
    local = clone(grid).fit(X, y)
    assert n_tasks >= 8  # 4 candidates x 2 folds ran on the workers
    np.testing.assert_array_equal(distributed.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(distributed.predict_proba(X), local.predict_proba(X))


def test_cross_validate_on_dask_matches_local(client, motions):
    X, y = motions
    distributed, n_tasks = _on_cluster(
        client, lambda: cross_validate(WarpClassifier(**FAST), X, y, cv=3, n_jobs=-1))
    local = cross_validate(WarpClassifier(**FAST), X, y, cv=3)
    assert n_tasks >= 3
    np.testing.assert_array_equal(distributed["test_score"], local["test_score"])


def test_sktime_evaluate_on_dask_matches_local(client):
    y = load_airline()
    forecaster = WarpForecaster(**{**TINY_FORECASTER, "n_epochs": 2, "context_length": 6})
    cv = ExpandingWindowSplitter(initial_window=96, step_length=12, fh=[1, 2, 3])
    # sktime's own dask backend sends the folds to the active distributed client
    distributed, n_tasks = _on_cluster(client, lambda: evaluate(forecaster, cv, y,
                                                                backend="dask"))
    local = evaluate(forecaster, cv, y)
    assert n_tasks >= len(local)
    pd.testing.assert_series_equal(distributed.filter(like="test_").iloc[:, 0],
                                   local.filter(like="test_").iloc[:, 0])
