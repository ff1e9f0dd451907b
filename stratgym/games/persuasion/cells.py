"""The full-dimensional cells of a hyperplane arrangement (the geometry behind the equivalence regions)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from stratgym.games.validation import as_nonnegative_float, as_real_array, check_range

#: A region counts as non-empty when the enumeration LP certifies a ball of at least this radius
#: inside it (rows normalized, variables in the unit box); thinner cells have prior mass O(REGION_TOL).
REGION_TOL = 1e-7
#: The largest ``tol`` the enumeration accepts. Its LP's slack is at most 1 (``w <= 1``), so ``tol >= 1`` would drop
#: every cell; already beyond 1e-2 it drops cells of visible prior mass (thin cells have mass ``O(tol)``).
MAX_REGION_TOL = 1e-2
#: Rows of the arrangement with norm below this fraction of the largest are treated as exactly zero.
ZERO_ROW_TOL = 1e-12
#: Points searched for a cell's witness before its LP in :func:`enumerate_cells` (a fixed seeded pool).
CELL_POOL_SIZE = 16384


def enumerate_cells(normals, offsets=None, tol: float = REGION_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Full-dimensional cells of the arrangement ``{z in R^d : s_a = 1{normals_a . z + offsets_a >= 0}}``.

    ``normals`` ``(A, d)``, ``offsets`` ``(A,)`` (``None``: all 0, a central arrangement of hyperplanes
    through the origin). Returns the cells' patterns ``(R, A)`` (boolean, sorted lexicographically)
    and one interior point of each, ``(R, d)``.

    Method: patterns are grown action by action and empty prefixes pruned. The affine arrangement is
    homogenized, ``y = (z, w)`` with ``w > 0``, so every row ``g_a = (normals_a, offsets_a)`` (scaled to
    unit norm) is a hyperplane through the origin; a prefix pattern is non-empty iff the LP
    ``max t  s.t.  (2 s_a - 1) g_a . y >= t,  w >= t,  y in [-1, 1]^(d+1)`` has ``t > tol``. Both
    the weak side ``>= 0`` and the strict side ``< 0`` get the same slack ``t``, so only
    full-dimensional cells are found: lower-dimensional pieces (on a hyperplane) carry no mass under
    a density, and cells thinner than ``tol`` (in ``[0, MAX_REGION_TOL]``) are dropped. The parent's LP solution is reused as the
    witness of whichever child it already satisfies with slack ``> tol``, so each surviving prefix
    costs about one LP. Rows with norm below ``ZERO_ROW_TOL`` times the largest are ``0 >= 0``: always
    positive. Before an LP, a fixed pool of ``CELL_POOL_SIZE`` points (``z ~ N(0, I)``, seeded) is searched for
    one inside the child with slack ``> tol``: the cells a Gaussian prior gives visible mass are found without an
    LP, so the LPs left are mostly those that prove a child empty (10 actions: 510 cells, 560 LPs instead of 760).
    """
    normals = as_real_array(normals, "normals", ndim=2)
    tol = check_region_tol(tol)
    n_rows, dim = normals.shape
    offsets = np.zeros(n_rows) if offsets is None else as_real_array(offsets, "offsets", shape=(n_rows,))
    rows = np.hstack([normals, offsets[:, None]])
    norms = np.linalg.norm(rows, axis=1)
    zero = norms <= ZERO_ROW_TOL * max(norms.max(initial=0.0), 1.0)
    rows = np.where(zero[:, None], 0.0, rows / np.where(zero, 1.0, norms)[:, None])
    pool = np.hstack([np.random.default_rng(0).standard_normal((CELL_POOL_SIZE, dim)), np.ones((CELL_POOL_SIZE, 1))])
    pool /= np.abs(pool).max(axis=1, keepdims=True)  # into the LP's box [-1, 1]^(d+1), w > 0
    pool_values = pool @ rows.T  # (P, A): row a's value at each pool point
    pool_slack = pool[:, -1].copy()  # per point, its slack in the node's cell (w >= t, then each row's)
    # Each node: (prefix pattern, witness y or None, the witness's slack, the pool points inside it).
    nodes: list[tuple[tuple[bool, ...], np.ndarray | None, float, np.ndarray]] = [
        ((), None, np.inf, np.flatnonzero(pool_slack > tol))]
    for a in range(n_rows):
        grown = []
        for prefix, witness, slack, inside in nodes:
            if zero[a]:
                grown.append((prefix + (True,), witness, slack, inside))
                continue
            for positive in (False, True):
                child = prefix + (positive,)
                sign = 1.0 if positive else -1.0
                child_inside = inside[sign * pool_values[inside, a] > tol]
                if witness is not None and sign * rows[a] @ witness > tol:
                    grown.append((child, witness, min(slack, sign * rows[a] @ witness), child_inside))
                    continue
                if child_inside.size:
                    active = [b for b in range(a + 1) if not zero[b]]
                    signs = np.array([1.0 if child[b] else -1.0 for b in active])
                    slacks = np.minimum((signs * pool_values[np.ix_(child_inside, active)]).min(axis=1),
                                        pool_slack[child_inside])
                    best = int(np.argmax(slacks))
                    grown.append((child, pool[child_inside[best]], float(slacks[best]), child_inside))
                    continue
                active = [b for b in range(a + 1) if not zero[b]]
                signs = np.array([1.0 if child[b] else -1.0 for b in active])
                point, point_slack = _max_slack(signs[:, None] * rows[active])
                if point_slack > tol:
                    grown.append((child, point, point_slack, child_inside))
        nodes = grown
    patterns = np.array([prefix for prefix, *_ in nodes], dtype=bool).reshape(len(nodes), n_rows)
    points = np.array([_dehomogenize(witness, dim) for _, witness, *_ in nodes]).reshape(len(nodes), dim)
    order = np.lexsort(patterns.T[::-1])
    return patterns[order], points[order]


def check_region_tol(tol) -> float:
    """``tol`` as a float in ``[0, MAX_REGION_TOL]``; ``ValueError`` naming it otherwise."""
    tol = as_nonnegative_float(tol, "tol")
    check_range(np.array(tol), "tol", low=0.0, high=MAX_REGION_TOL)
    return tol


def _dehomogenize(witness: np.ndarray | None, dim: int) -> np.ndarray:
    # No witness means no non-zero row at all: the whole space is one cell, witnessed by the origin.
    return np.zeros(dim) if witness is None else witness[:dim] / witness[dim]


def _max_slack(signed_rows: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve ``max t s.t. signed_rows . y >= t, w >= t, y in [-1,1]^n`` (``w = y[-1]``); return ``y`` and its exact slack."""
    n_rows, n = signed_rows.shape
    homogenizer = np.zeros((1, n))
    homogenizer[0, -1] = 1.0
    constraints = np.vstack([signed_rows, homogenizer])
    a_ub = np.hstack([-constraints, np.ones((n_rows + 1, 1))])
    objective = np.zeros(n + 1)
    objective[-1] = -1.0
    result = linprog(objective, A_ub=a_ub, b_ub=np.zeros(n_rows + 1), bounds=[(-1.0, 1.0)] * (n + 1),
                     method="highs")
    if result.status != 0:
        raise RuntimeError(f"region LP failed: {result.message}")
    point = result.x[:n]
    # Recompute the slack exactly rather than trusting the solver's t (feasibility tolerance).
    return point, float((constraints @ point).min())
