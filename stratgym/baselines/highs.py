"""What the exact solvers share about HiGHS's numerics: rows in their own units."""

from __future__ import annotations

import numpy as np

#: A row whose largest coefficient is below this is divided by it (:func:`rescale_small_rows`): far above HiGHS's
#: small-entry cut (1e-9) and its tolerances, so only rows comparing nearly proportional options are touched.
RESCALE_BELOW = 1e-3


def rescale_small_rows(rows: np.ndarray) -> np.ndarray:
    """The factor ``(m,)`` to divide each row of ``rows`` ``(m, k)`` (and its bounds) by: its largest absolute
    coefficient where that is below :data:`RESCALE_BELOW` (and not 0), else 1.

    Why: a row comparing two nearly proportional options (two columns of ``W``, or of a follower's payoffs, in ratio
    ``1 - 2e-9``, say) has
    coefficients of about 1e-9, which HiGHS drops, or holds to its absolute tolerance (1e-10), as large as the
    tie zone it decides; in units of its largest coefficient the row means the same, and HiGHS holds it exactly."""
    largest = np.abs(rows).max(axis=1) if rows.size else np.zeros(len(rows))
    return np.where((largest > 0.0) & (largest < RESCALE_BELOW), largest, 1.0)
