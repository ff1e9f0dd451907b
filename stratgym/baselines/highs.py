"""What the exact solvers share about HiGHS's numerics: rows in their own units, and the lead that keeps an LP's
solution inside the agent's tie zone."""

from __future__ import annotations

import numpy as np

#: A row whose largest coefficient is below this is divided by it (:func:`rescale_small_rows`): far above HiGHS's
#: small-entry cut (1e-9) and its tolerances, so only rows comparing nearly proportional options are touched.
RESCALE_BELOW = 1e-3


#: Rows whose largest coefficient is below this are left as they are: their value never leaves 1e-12, far inside any
#: tie zone, so HiGHS dropping them (a tie everywhere) is right, while dividing by 1e-26, say, would not be.
RESCALE_FLOOR = 1e-12


def rescale_small_rows(rows: np.ndarray) -> np.ndarray:
    """The factor ``(m,)`` to divide each row of ``rows`` ``(m, k)`` (and its bounds) by: its largest absolute
    coefficient where that lies in ``[RESCALE_FLOOR, RESCALE_BELOW)``, else 1.

    Why: a row comparing two nearly proportional options (two columns of ``W``, or of a follower's payoffs, in ratio
    ``1 - 2e-9``, say) has
    coefficients of about 1e-9, which HiGHS drops, or holds to its absolute tolerance (1e-10), as large as the
    tie zone it decides; in units of its largest coefficient the row means the same, and HiGHS holds it exactly."""
    largest = np.abs(rows).max(axis=1) if rows.size else np.zeros(len(rows))
    return np.where((largest >= RESCALE_FLOOR) & (largest < RESCALE_BELOW), largest, 1.0)


#: HiGHS's primal feasibility tolerance in the solvers' LPs (rows normalized to the agent's unit of value).
LP_FEASIBILITY_TOLERANCE = 1e-10


def incentive_lead(margin: float, tie_tol: float) -> float:
    """By how much a chosen option must beat every other one in the solvers' rows (the agent's unit of value):
    ``margin`` if positive (strict incentives), else ``-tie_tol`` plus twice :data:`LP_FEASIBILITY_TOLERANCE`, so
    that the options the agent counts as tied with the best (within ``tie_tol``, ties to the principal) are ones
    the solvers may choose, and a solution meeting the rows to HiGHS's tolerance lies inside the zone, not on its
    edge, where rounding decides: the optimum is defined with the agent's own tie rule."""
    return margin if margin > 0 else -max(tie_tol - 2.0 * LP_FEASIBILITY_TOLERANCE, 0.0)


#: How far inside the tie zone a row held in its own units is stated (the agent's unit of value): 1e-5 of the zone,
#: far above the agent's rounding of its values (about 1e-16 of the unit) and HiGHS's tolerance in such rows (1e-10 of
#: their unit of about 1e-9), so a vertex on one is inside the zone for the agent too.
EXACT_ROW_HAIR = 1e-14


def inside_zone(leads):
    """The leads of rows held in their own units (:func:`rescale_small_rows`): a tie-zone lead (negative: the chosen
    option may trail by the zone) moved :data:`EXACT_ROW_HAIR` inside. Why: HiGHS meets such rows exactly, so a
    vertex on one would sit on the zone's edge, where the agent's rounding decides."""
    leads = np.asarray(leads, dtype=np.float64)
    return np.where(leads < 0.0, np.minimum(leads + EXACT_ROW_HAIR, 0.0), leads)
