"""The one result type every Stackelberg solver returns (stateful game, matrix games)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StackelbergResult:
    """A principal policy and the agent's response to it, re-checked before it is returned.

    Attributes:
        theta: the principal's policy: ``(T, n)`` assessment policy (rows on the simplex); in a matrix game the
            leader's mixed strategy ``(m,)``.
        effort: the agent's induced response (principal-favouring ties): ``(T, d)`` effort policy; in a matrix game
            each follower type's column ``(K,)``.
        principal_utility: ``U_P = sum_t lambda . e_t``.
        agent_utility: ``U_A = sum_t gamma^(t-1) y_t``.
        response_model: ``"rational"``, ``"myopic"`` or ``"forecasting"``.
        method: which solver produced it (e.g. ``"milp"``, ``"brute-force"``, ``"best-constant"``).
        certificate: evidence the effort policy is a best response to ``theta`` (solver-specific dict,
            e.g. the margin by which the chosen effort beats the alternatives).
        optimality_gap: certified bound on ``U_P* - U_P`` (0 for a proven optimum, ``inf`` if unknown; an exact
            solver stopped by its time limit reports its certified MIP gap here).
        solve_time: wall-clock seconds spent in the solver.
    """

    theta: np.ndarray
    effort: np.ndarray
    principal_utility: float
    agent_utility: float
    response_model: str
    method: str
    certificate: dict[str, Any] = field(default_factory=dict)
    optimality_gap: float = 0.0
    solve_time: float = 0.0

    @property
    def is_optimal(self) -> bool:
        """Whether ``principal_utility`` is proven optimal (``optimality_gap == 0``)."""
        return self.optimality_gap == 0.0

    @property
    def principal_value(self) -> float:
        """``principal_utility`` under the name of the common result contract (issue 10): the principal's value."""
        return self.principal_utility

    @property
    def agent_value(self) -> float:
        """``agent_utility`` under the name of the common result contract: the agent's value."""
        return self.agent_utility
