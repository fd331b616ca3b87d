"""The docstring examples run as written."""

import doctest

import pytest

import skwarp.classification
import skwarp.datasets
import skwarp.distributions
import skwarp.exceptions
import skwarp.forecasting
import skwarp.plotting


@pytest.mark.parametrize("module", [skwarp.classification, skwarp.datasets,
                                    skwarp.distributions, skwarp.exceptions,
                                    skwarp.forecasting, skwarp.plotting])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
