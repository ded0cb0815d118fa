"""BLAS thread limits (:func:`rmtfp._threads.limit_blas_threads`) against threadpoolctl's own reading."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from rmtfp._threads import limit_blas_threads


def _blas_counts():
    np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS is loaded
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_limit_sets_and_restores_every_blas_library():
    if not _blas_counts():
        pytest.skip("no BLAS library loaded")
    with threadpool_limits(limits=2, user_api="blas"):
        outside = _blas_counts()
        with limit_blas_threads(1):
            assert _blas_counts() == [1] * len(outside)
            with limit_blas_threads(3):  # nested: set, then restored to the enclosing limit
                assert _blas_counts() == [3] * len(outside)
            assert _blas_counts() == [1] * len(outside)
        assert _blas_counts() == outside
        with limit_blas_threads(None):  # None changes nothing
            assert _blas_counts() == outside


def test_limit_is_restored_when_the_block_raises():
    if not _blas_counts():
        pytest.skip("no BLAS library loaded")
    with threadpool_limits(limits=2, user_api="blas"):
        outside = _blas_counts()
        with pytest.raises(RuntimeError):
            with limit_blas_threads(1):
                raise RuntimeError("inside")
        assert _blas_counts() == outside
