"""Matrix products over a batch of rows, kept on one BLAS thread.

OpenBLAS splits a product over its threads once it is big enough (``m n k`` above ``2^18`` multiply-adds for a
matrix product, ``m n`` above ``9216`` for a matrix-vector product), which for the small matrices of these games
and a batch of thousands of rows happens on every env step. On a busy machine (or inside a process whose other
threads, a learner's, hold the cores) the threads wait for each other: a product of a few hundred microseconds
was measured at 10 ms on average. :func:`matmul_rows` (:func:`matmul_columns`) multiplies blocks of rows (of
columns) below those sizes instead, which changes no row's (column's) result: its sums do not depend on how the
rows are grouped.
"""

from __future__ import annotations

import numpy as np

#: Multiply-adds per matrix-product call below which OpenBLAS stays on one thread (its ``GEMM_MULTITHREAD_THRESHOLD``
#: 4 times ``SMP_THRESHOLD_MIN`` 65536).
GEMM_SINGLE_THREAD = 4 * 65536
#: Entries of the matrix per matrix-vector call below which OpenBLAS stays on one thread (``2304 * 4``).
GEMV_SINGLE_THREAD = 2304 * 4


def matmul_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``a`` ``(..., m)`` and ``b`` ``(m, p)`` or ``(m,)``, the leading axes of ``a`` treated as rows and
    multiplied in blocks that OpenBLAS keeps on one thread (see the module docstring)."""
    rows = a.reshape(-1, a.shape[-1])
    m = rows.shape[1]
    columns = b.shape[1] if b.ndim == 2 else 1
    limit = GEMM_SINGLE_THREAD // max(m * columns, 1) if b.ndim == 2 else GEMV_SINGLE_THREAD // max(m, 1)
    block = max(limit, 1)
    if len(rows) <= block:
        product = rows @ b
    else:
        product = np.empty((len(rows),) + b.shape[1:], dtype=np.result_type(rows, b))
        for start in range(0, len(rows), block):
            np.matmul(rows[start:start + block], b, out=product[start:start + block])
    return product.reshape(a.shape[:-1] + b.shape[1:])


def matmul_columns(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for ``a`` ``(p, m)`` and ``b`` ``(m, n)``, the columns of ``b`` multiplied in blocks that OpenBLAS
    keeps on one thread (a few rows against a batch laid out along the columns; see the module docstring); into
    ``out`` ``(p, n)`` if given. No block has one column unless ``b`` has: OpenBLAS multiplies a one-column product
    as a matrix-vector product, which adds in another order (with ``a`` the transpose of a C-ordered matrix, as the
    envs pass their payoff tables, every wider product adds each column in one order)."""
    block = max(GEMM_SINGLE_THREAD // max(a.shape[0] * a.shape[1], 1), 1)
    n = b.shape[1]
    if n <= block:  # one block (a few applicants' episodes, say): no bookkeeping
        return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((a.shape[0], n), dtype=np.result_type(a, b))
    starts = list(range(0, max(n, 1), block))
    if n - starts[-1] == 1 and len(starts) > 1 and block > 2:
        starts[-1] -= 1  # no 1-column tail (see above)
    for start, stop in zip(starts, starts[1:] + [n]):
        np.matmul(a, b[:, start:stop], out=out[:, start:stop])
    return out
