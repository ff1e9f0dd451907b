"""The option-choice MILP of :func:`~stratgym.baselines.stateful.milp.milp_optimum`, in two formulations.

Both have one binary ``z[tau, o]`` per round and option (``d`` effort types, then no effort), continuous rules and
big-M rows ``z[tau, o] = 1  =>  a . c_tau <= -l_tau`` on the agent's normalized values ``c_tau`` (``a`` one of the
combinations of :func:`option_combinations`, ``l_tau`` the round's lead), with ``M`` the exact range of
``a . c_tau`` over rules on the simplex. They differ only in how ``c_tau`` is written:

* ``rules``: ``c_tau = values[tau] . phi`` over the rules themselves. For a rational agent each row then has a
  coefficient on every later rule (retained effort carries later scores back), about ``T^2 n d^2 / 2`` nonzeros.
* ``state``: ``c_tau_j = alpha_tau (W_j . theta_tau + omega_j U_tau_j)`` with state variables ``U_tau_j`` for the
  retained types, the discounted later scores ``sum_{t > tau} gamma^(t - tau) p_j^(t - tau - 1) W_j . theta_t``,
  tied to the rules by the recursion ``U_{tau-1, j} = gamma (W_j . theta_tau + p_j U_tau_j)``, ``U_{T-1} = 0``
  (``alpha_tau = gamma^tau / S_tau``; retained types with proportional columns and equal persistence share one).
  About ``T d^2 (n + k)`` nonzeros (``k`` retained types): a sparse program.

``U`` is a linear function of the rules, so both have the same feasible choices, the same LP relaxation and the same
``M``'s, hence the same optimum. HiGHS's presolve, on the dense rows, finds most options that no rule can make the
agent take (on random ``T = 50`` games often 2 or 3 of the 5 in every round); through the state recursion it does
not, so the state form fixes them itself: by single rows, as both forms do, and by mixes of two rows
(:func:`pairwise_impossible`; on the tested games the LP duals of most such infeasibilities have support 2). Then the
state form is the faster one: on random ``T = 100`` games the whole solve takes about two thirds of the rules form's
time (median), and its branch-and-bound nodes are cheaper (``scripts/bench_stateful.py``). It needs the recursive
structure of a rational agent's values under one rule per round, and checks its map against the operator before use.
State variables are scaled by their largest value (``u = U / max U`` in ``[0, 1]``), so the recursion's coefficients
stay of order 1.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import scipy.sparse as sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.linalg import spsolve_triangular

from stratgym.baselines.highs import rescale_small_rows
from stratgym.baselines.stateful.common import largest_value
from stratgym.baselines.stateful.operators import option_combinations
from stratgym.games.stateful import StatefulGame

#: ``milp_optimum``'s formulations: ``auto`` = ``state`` for a rational agent's dynamic rules, ``rules`` otherwise.
FORMULATIONS = ("auto", "state", "rules")
#: HiGHS options of the choice MILP: an exact optimum, and feasibility tolerances far inside the tie zone (TIE_TOL
#: of the round's scale; the rows are in those units), so HiGHS admits almost no choice the exact LP rejects.
MILP_OPTIONS = {"mip_rel_gap": 0.0, "mip_feasibility_tolerance": 1e-10, "primal_feasibility_tolerance": 1e-10}
#: An option's rows hold for no rule if even the best rule leaves one of them (or a mix of two) violated by more
#: than this (normalized units; the rows are evaluated exactly, so only rounding needs the allowance).
_IMPOSSIBLE_TOL = 1e-12
#: Mixing weights :func:`pairwise_impossible` tries on each pair of an option's rows (evenly spaced, ends included).
_PAIR_GRID = 33
#: Columns of ``W`` (each divided by its largest entry) this close are proportional (:func:`_state_classes`).
_PROPORTIONAL_TOL = 1e-14
#: How far (normalized units) the state form's values may differ from the operator's before it is refused as a bug.
_STATE_CHECK_TOL = 1e-9


@dataclasses.dataclass
class ChoiceProgram:
    """``lower <= A x <= upper`` over ``x = (rules, z, state)``, binaries ``z`` of shape ``shape = (T, d + 1)``."""

    objective: np.ndarray
    bounds: Bounds
    blocks: list  # sparse row blocks of A
    lower: list  # their lower and upper bounds (arrays)
    upper: list
    z_offset: int
    shape: tuple

    def solve(self, time_limit: float | None):
        """HiGHS's result (scipy's ``milp``), stopped after ``time_limit`` seconds (``None``: never)."""
        integrality = np.zeros(self.objective.size)
        integrality[self.z_offset:self.z_offset + int(np.prod(self.shape))] = 1.0
        options = dict(MILP_OPTIONS, **({} if time_limit is None else {"time_limit": time_limit}))
        constraints = LinearConstraint(sparse.vstack(self.blocks, format="csr"), np.concatenate(self.lower),
                                       np.concatenate(self.upper))
        with warnings.catch_warnings():  # scipy passes HiGHS options it does not list on verbatim, with a warning
            warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
            return milp(self.objective, integrality=integrality, bounds=self.bounds, constraints=constraints,
                        options=options)

    def choices(self, x: np.ndarray) -> np.ndarray:
        """The option index of every round, ``(T,)``, from a solution ``x``."""
        return x[self.z_offset:self.z_offset + int(np.prod(self.shape))].reshape(self.shape).argmax(axis=1)

    def exclude(self, chosen: np.ndarray) -> None:
        """A no-good cut: at most ``T - 1`` of the binaries of ``chosen`` may be 1."""
        columns = self.z_offset + np.ravel_multi_index((np.arange(len(chosen)), chosen), self.shape)
        self.blocks.append(sparse.csr_array((np.ones(len(chosen)), (np.zeros(len(chosen), dtype=int), columns)),
                                            shape=(1, self.objective.size)))
        self.lower.append(np.array([-np.inf]))
        self.upper.append(np.array([len(chosen) - 1.0]))


def choice_program(game: StatefulGame, values: np.ndarray, leads: np.ndarray, scales: np.ndarray,
                   state: bool, rescale: bool = True) -> ChoiceProgram:
    """Build the MILP from normalized ``values`` ``(T, d, R, n)`` (the operator divided by ``scales`` ``(T,)``) and
    leads ``(T,)``; ``state`` picks the state formulation (a rational agent with ``R = T`` rules only); ``rescale``
    holds rows comparing nearly proportional options in their own units (:func:`milp_optimum`'s default)."""
    T, d, R, n = values.shape
    n_rules, n_options = R * n, d + 1
    z_offset = n_rules
    if state:
        columns, maps, n_state, recursion = _state_form(game, values, scales, z_offset + T * n_options)
    else:
        columns, maps, n_state, recursion = [np.arange(n_rules)] * T, values.reshape(T, d, n_rules), 0, None
    n_columns = z_offset + T * n_options + n_state
    combinations = option_combinations(d)
    # over_rules[tau, o, r] = a_r . c_tau as coefficients over the rules, for option o's combinations a_r.
    over_rules = np.einsum("omd,tdk->tomk", np.stack(combinations), values.reshape(T, d, n_rules)).reshape(
        T, n_options, d, R, n)
    big_m = over_rules.max(axis=-1).sum(axis=-1) + leads[:, None, None]
    lowest = over_rules.min(axis=-1).sum(axis=-1) + leads[:, None, None]
    # Rows that hold for every rule are left out; an option that not even the best rule satisfies is fixed to 0:
    # one of its rows fails for every rule (beyond rounding), or (state form) a mix of two of them does.
    impossible = np.any((big_m > 0.0) & (lowest > _IMPOSSIBLE_TOL), axis=-1)
    if state:
        impossible |= pairwise_impossible(game, values, leads, scales)
    entries, upper, n_rows = [(np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0))], [np.zeros(0)], 0
    for tau, option in zip(*np.nonzero(~impossible)):
        keep = big_m[tau, option] > 0.0
        local = combinations[option][keep] @ maps[tau]
        unit = rescale_small_rows(local) if rescale else np.ones(len(local))  # nearly proportional: own units
        local = local / unit[:, None]
        rows, cols = np.nonzero(local)
        entries.append((n_rows + rows, columns[tau][cols], local[rows, cols]))
        m = int(keep.sum())
        z_column = np.full(m, z_offset + tau * n_options + option)
        entries.append((n_rows + np.arange(m), z_column, big_m[tau, option, keep] / unit))
        upper.append((big_m[tau, option, keep] - leads[tau]) / unit)
        n_rows += m
    rows, cols, data = (np.concatenate(part) for part in zip(*entries))
    blocks = [sparse.csr_array((data, (rows, cols)), shape=(n_rows, n_columns))]
    lower, upper = [np.full(n_rows, -np.inf)], [np.concatenate(upper)]
    # Each rule on the simplex, one option per round, and the state recursion (equalities).
    sums = sparse.hstack([sparse.kron(sparse.eye_array(R), np.ones((1, n))),
                          sparse.csr_array((R, n_columns - n_rules))])
    picks = sparse.hstack([sparse.csr_array((T, z_offset)), sparse.kron(sparse.eye_array(T), np.ones((1, n_options))),
                           sparse.csr_array((T, n_state))])
    blocks += [sums, picks] + ([] if recursion is None else [recursion])
    n_equalities = R + T + (0 if recursion is None else recursion.shape[0])
    lower.append(np.concatenate([np.ones(R + T), np.zeros(n_equalities - R - T)]))
    upper.append(lower[-1].copy())
    # Every option but "no effort" spends the whole budget, so B cancels: costs lambda / max|lambda|, in [-1, 1].
    option_values = np.append(game.effort_value / largest_value(game), 0.0)
    objective = np.concatenate([np.zeros(n_rules), -np.tile(option_values, T), np.zeros(n_state)])
    bounds = Bounds(np.zeros(n_columns), np.concatenate([np.ones(n_rules), np.where(impossible, 0.0, 1.0).ravel(),
                                                         np.ones(n_state)]))
    return ChoiceProgram(objective, bounds, blocks, lower, upper, z_offset, (T, n_options))


def pairwise_impossible(game: StatefulGame, values: np.ndarray, leads: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Which options no rule can make a rational agent take, certified by a mix of two of their rows: ``(T, d + 1)``
    bools, for ``values`` ``(T, d, T, n)`` of dynamic rules normalized by ``scales`` ``(T,)``, and leads ``(T,)``.

    By LP duality option ``o``'s rows ``a_r . c_tau <= -l_tau`` are infeasible iff some weights ``y >= 0``,
    ``sum y = 1`` give ``F(y) = min over rules of sum_r y_r a_r . c_tau > -l_tau``; rules are independent simplices, so
    ``F(y) = sum_t min_i`` of ``y``'s coefficients on rule ``t``. The single-row test takes ``y`` a unit vector; here
    ``y`` runs over a grid of :data:`_PAIR_GRID` points on every edge ``(1 - s) e_a + s e_b``. With ``w = sum_r y_r
    a_r`` (weights on types), ``F = min_i (w . values[tau, :, tau, i]) + alpha_tau sum_{m=1}^{T-1-tau} min_i sum_j
    w_j omega_j gamma^m p_j^(m-1) W_ij``: the sum over later rounds is a partial sum of terms that do not depend on
    ``tau``, so every round costs one cumulative sum. A grid point is a valid certificate wherever it lands (the
    test is sound, not complete: infeasibility that needs three rows, or a finer mix, is left to the MILP).
    """
    T, d, _, n = values.shape
    W, retention, persistence, gamma = game.conversion_matrix, game.retention, game.persistence, game.discount
    combinations = np.stack(option_combinations(d))  # (d + 1, d, d)
    first, second = np.triu_indices(d, k=1)
    shares = np.linspace(0.0, 1.0, _PAIR_GRID)
    weights = (combinations[:, first, None, :] * (1.0 - shares)[:, None]
               + combinations[:, second, None, :] * shares[:, None])  # (d + 1, pairs, grid, d)
    flat = weights.reshape(-1, d)
    # As matrix products (BLAS): w . values[tau, :, tau, i] per round, w_j omega_j gamma^m p_j^(m-1) W_ij per lag.
    current = (flat @ values[np.arange(T), :, np.arange(T), :]).min(axis=-1).reshape((T,) + weights.shape[:-1])
    lags = np.arange(1, T)
    carried = retention * gamma ** lags[:, None] * persistence ** (lags[:, None] - 1.0)  # (T - 1, d)
    later = ((flat * carried[:, None, :]) @ W.T).min(axis=-1).reshape((T - 1,) + weights.shape[:-1])
    partial = np.concatenate([np.zeros((1,) + later.shape[1:]), np.cumsum(later, axis=0)])  # partial[L] = sum_{m<=L}
    alpha = gamma ** np.arange(T) / scales
    mixed = current + alpha[:, None, None, None] * partial[T - 1 - np.arange(T)]
    return np.any(mixed.max(axis=-1) + leads[:, None, None] > _IMPOSSIBLE_TOL, axis=-1)


def _state_form(game: StatefulGame, values: np.ndarray, scales: np.ndarray, first_column: int):
    """The state formulation's pieces: per round the columns ``c_tau`` depends on (its rule, then its state
    variables) and the map ``(d, columns)`` from them to ``c_tau``; the number of state variables; the recursion's
    rows (sparse, ``= 0``). ``RuntimeError`` if the map disagrees with ``values`` (a bug, never the input's fault)."""
    T, d, _, n = values.shape
    W, retention, persistence, gamma = game.conversion_matrix, game.retention, game.persistence, game.discount
    # largest[tau, j] = max over rules of U_tau_j: every later rule on the feature type j converts best.
    largest = np.zeros((T, d))
    for tau in range(T - 2, -1, -1):
        largest[tau] = gamma * (W.max(axis=0) + persistence * largest[tau + 1])
    active = (largest > 0.0) & (retention > 0.0)
    # Retained types with proportional columns of W and equal persistence have proportional U, hence equal u: one
    # variable per class. Two such types held apart only by the recursion's tolerance would make a pair whose
    # values differ by 1e-9 (a near tie) differ by noise instead.
    representative = _state_classes(game)
    owned = active & (representative == np.arange(d))
    index = np.full((T, d), -1)
    index[owned] = first_column + np.arange(int(owned.sum()))
    index[active] = index[:, representative][active]
    alpha = gamma ** np.arange(T) / scales
    columns, maps = [], []
    for tau in range(T):
        types = np.flatnonzero(active[tau])
        state_columns, position = np.unique(index[tau, types], return_inverse=True)
        columns.append(np.concatenate([tau * n + np.arange(n), state_columns]))
        state_part = np.zeros((d, len(state_columns)))
        state_part[types, position] = alpha[tau] * retention[types] * largest[tau, types]
        maps.append(np.hstack([values[tau, :, tau, :], state_part]))
    # u_tau_j - (gamma / max U_tau_j) W_j . theta_{tau+1} - gamma p_j (max U_{tau+1, j} / max U_tau_j) u_{tau+1, j} = 0
    taus, types = np.nonzero(owned)
    row = np.arange(len(taus))
    feature = np.tile(np.arange(n), len(taus))
    later = owned[taus + 1, types] if len(taus) else np.zeros(0, dtype=bool)
    rows = np.concatenate([row, np.repeat(row, n), row[later]])
    cols = np.concatenate([index[taus, types], np.repeat(taus + 1, n) * n + feature, index[taus + 1, types][later]])
    data = np.concatenate([np.ones(len(taus)),
                           -(gamma * W[:, types] / largest[taus, types]).T.ravel(),
                           -(gamma * persistence[types] * largest[taus + 1, types] / largest[taus, types])[later]])
    recursion = sparse.csr_array((data, (rows, cols)), shape=(len(taus), first_column + len(taus)))
    _check_state_form(values, columns, maps, recursion, first_column)
    return columns, maps, len(taus), recursion


def _state_classes(game: StatefulGame) -> np.ndarray:
    """Per effort type, the lowest-index type whose scaled state it shares ``(d,)``: retained types with the same
    persistence and proportional columns of ``W`` (equal after dividing by their largest entry, up to rounding)."""
    W, persistence = game.conversion_matrix, game.persistence
    largest = W.max(axis=0)
    shape = np.divide(W, largest, out=np.zeros_like(W), where=largest > 0.0)
    representative = np.arange(game.n_efforts)
    for j in range(game.n_efforts):
        for k in range(j):
            if (representative[k] == k and game.retention[j] > 0.0 and game.retention[k] > 0.0
                    and persistence[j] == persistence[k] and np.allclose(shape[:, j], shape[:, k], rtol=0.0,
                                                                         atol=_PROPORTIONAL_TOL)):
                representative[j] = k
                break
    return representative


def _check_state_form(values: np.ndarray, columns: list, maps: list, recursion, first_column: int) -> None:
    """Evaluate the state form at a few rules (solving its recursion for the state) and compare with ``values``."""
    T, d, _, n = values.shape
    eye = np.eye(n)
    rules = [np.full((T, n), 1.0 / n), eye[np.arange(T) % n], eye[(np.arange(T) * 2 + 1) % n]]
    n_state = recursion.shape[0]
    # Each state variable depends on the next round's only: the recursion's state block is upper triangular.
    state_block = sparse.csr_matrix(recursion[:, first_column:])
    for rule in rules:
        x = np.zeros(first_column + n_state)
        x[:T * n] = rule.ravel()
        if n_state:
            x[first_column:] = spsolve_triangular(state_block, -(recursion[:, :first_column] @ x[:first_column]),
                                                  lower=False)
        implied = np.array([maps[tau] @ x[columns[tau]] for tau in range(T)])
        if not np.allclose(implied, np.einsum("tjri,ri->tj", values, rule), rtol=0.0, atol=_STATE_CHECK_TOL):
            raise RuntimeError("the MILP's state formulation disagrees with the response operator")
