"""Assessment and effort policies: their checks, the uniform rule, clean-up of solver round-off, and an
agent's :class:`Response`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratgym.games.stateful.model import StatefulGame
from stratgym.games.validation import as_float_array, as_nonnegative_float

# ---------------------------------------------------------------------------------------------
# Policies and dynamics
# ---------------------------------------------------------------------------------------------

def uniform_rule(game: StatefulGame) -> np.ndarray:
    """The uniform assessment policy, shape ``(T, n)``."""
    return np.full((game.horizon, game.n_features), 1.0 / game.n_features)


def check_assessment_policy(game: StatefulGame, theta, name: str = "theta", atol: float = 1e-6,
                            batch: bool = True) -> np.ndarray:
    """Validate rules ``theta`` of shape ``(..., T, n)`` (``batch=False``: exactly ``(T, n)``): finite, ``>= 0``,
    each row summing to 1 (within ``atol``)."""
    return on_simplex_rows(with_trailing_shape(theta, (game.horizon, game.n_features), name, "(..., T, n)", batch),
                           name, atol)


def on_simplex_rows(array: np.ndarray, name: str, atol: float = 1e-6) -> np.ndarray:
    """``array`` if its last axis lies on the probability simplex (within ``atol``), else ``ValueError`` naming ``name``."""
    # One pass on the hot path; comparisons with NaN are False, so non-finite input fails it too. The reductions'
    # ``initial`` values let an empty batch pass (numpy has no min of nothing); NaN still propagates.
    if not (array.min(initial=0.0) >= -atol and np.abs(array.sum(axis=-1) - 1.0).max(initial=0.0) <= atol):
        _reject_non_finite(array, name)
        raise ValueError(f"{name} rows must lie on the probability simplex (>= 0, summing to 1)")
    return array


def check_effort_policy(game: StatefulGame, effort, name: str = "effort", atol: float = 1e-6,
                        batch: bool = True) -> np.ndarray:
    """Validate efforts of shape ``(..., T, d)`` (``batch=False``: exactly ``(T, d)``): finite, ``>= 0``, each
    round's total at most the budget."""
    effort = with_trailing_shape(effort, (game.horizon, game.n_efforts), name, "(..., T, d)", batch)
    if not (effort.min(initial=0.0) >= -atol and effort.sum(axis=-1).max(initial=0.0) <= game.budget + atol):
        _reject_non_finite(effort, name)
        raise ValueError(f"{name} rows must be >= 0 and sum to at most the budget B={game.budget}")
    return effort


def with_trailing_shape(value, trailing: tuple, name: str, form: str, batch: bool = True) -> np.ndarray:
    """``value`` as a float64 array of shape ``(..., *trailing)`` (``batch=False``: exactly ``trailing``)."""
    array = as_float_array(value, name)
    if array.ndim < len(trailing) or array.shape[-len(trailing):] != trailing or (not batch and array.shape != trailing):
        sizes = ", ".join(map(str, trailing))
        if batch:
            raise ValueError(f"{name} must have shape {form} = (..., {sizes}), got {array.shape}")
        single = form.replace("..., ", "").replace(")", ",)" if len(trailing) == 1 else ")")
        raise ValueError(f"{name} must have shape {single} = {tuple(trailing)}, got {array.shape}")
    return array


def _reject_non_finite(array: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")


def check_state(game: StatefulGame, state, name: str = "state", batch: bool = True) -> np.ndarray:
    """Validate agent states ``(..., d)`` (``batch=False``: exactly ``(d,)``): finite and ``>= 0``."""
    state = with_trailing_shape(state, (game.n_efforts,), name, "(..., d)", batch)
    if not state.min(initial=0.0) >= 0.0:
        _reject_non_finite(state, name)
        raise ValueError(f"{name} must be >= 0, got {state}")
    return state


def check_tolerances(tie_tol, gap_tol) -> tuple[float, float]:
    """``(tie_tol >= 0, gap_tol > 0)`` as floats; ``ValueError`` naming the bad one."""
    # gap_tol > 0: a duality gap of exactly 0 is not reachable in floating point.
    return as_nonnegative_float(tie_tol, "tie_tol"), as_nonnegative_float(gap_tol, "gap_tol", positive=True)


def checked_policies(game: StatefulGame, theta, effort, initial_state, need_effort: bool = True) -> tuple:
    """``(theta (..., T, n), effort (..., T, d) or None, initial_state (..., d) or None)`` checked, including that their
    batch axes broadcast; ``effort`` may be ``None`` only if not ``need_effort``. ``ValueError`` naming the argument."""
    theta = check_assessment_policy(game, theta)
    if effort is not None or need_effort:
        effort = check_effort_policy(game, effort)
    if initial_state is not None:
        initial_state = check_state(game, initial_state, "initial_state")
    batches = {"theta": theta.shape[:-2], "effort": () if effort is None else effort.shape[:-2],
               "initial_state": () if initial_state is None else initial_state.shape[:-1]}
    try:
        if any(batches.values()):  # single policies (the common case) skip numpy's slow shape check
            np.broadcast_shapes(*batches.values())
    except ValueError:
        shapes = ", ".join(f"{name} {shape}" for name, shape in batches.items())
        raise ValueError(f"the batch shapes (leading axes) of {shapes} do not broadcast against each other") from None
    return theta, effort, initial_state


def clip_rows(rows: np.ndarray, total: float = 1.0, exact: bool = True) -> np.ndarray:
    """Clean solver round-off from rows ``(..., k)``: entries clipped at 0, then each row rescaled to sum to ``total``
    (``exact=True``: rules on the simplex; rows must not be all zero) or scaled down only where it exceeds
    ``total`` (``exact=False``: efforts within the budget ``total``)."""
    rows = np.clip(rows, 0.0, None)
    totals = rows.sum(axis=-1, keepdims=True)
    if exact:
        return rows / totals * total
    return np.where(totals > total, rows * total / np.maximum(totals, 1e-300), rows)


@dataclass(frozen=True)
class Response:
    """An agent's response to an assessment policy.

    Attributes:
        effort: ``(T, d)`` effort policy.
        duality_gap: certified bound on the agent's lost utility (0 for the linear closed form).
    """

    effort: np.ndarray
    duality_gap: float = 0.0
