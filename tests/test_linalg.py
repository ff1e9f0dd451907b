"""Blocked matrix products (stratgym.games.linalg): the same bits as one product, whatever the blocks."""

import numpy as np
import pytest

from stratgym.games.linalg import GEMM_SINGLE_THREAD, matmul_columns


def _reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` column by column, each column in a product of two columns (a matrix product's order of sums)."""
    return np.stack([(a @ b[..., [j, j]])[..., 0] for j in range(b.shape[-1])], axis=-1)


def _payoff_table(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """``(columns, rows)``: a transposed C-ordered table, as the envs pass ``weighted.T``."""
    return (rng.random((rows, columns)) * rng.choice([1e-3, 1.0, 7.0], (rows, columns))).T


@pytest.mark.parametrize("extra", [0, 1, 2])
def test_matmul_columns_blocks_change_no_bit(extra):
    rng = np.random.default_rng(extra)
    a = _payoff_table(rng, 16, 21)
    block = GEMM_SINGLE_THREAD // a.size
    b = rng.random((16, 2 * block + extra))  # ``extra`` 1: a tail of one column, multiplied with its neighbour
    assert np.array_equal(matmul_columns(a, b), _reference(a, b))


def test_matmul_columns_empty_batch():
    assert matmul_columns(np.ones((3, 2)), np.ones((2, 0))).shape == (3, 0)
