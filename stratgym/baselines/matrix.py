"""Exact Stackelberg solvers and reference commitments of the matrix games (:mod:`stratgym.games.matrix`).

* :func:`solve`: the strong Stackelberg optimum. One follower type: one LP per follower column (Conitzer and
  Sandholm, EC 2006): maximize the leader's value over the strategies against which that column is a best
  response, and keep the best column. Several types: a DOBSS-style mixed-integer program (Paruchuri et al., AAMAS
  2008; the follower's incentives on DOBSS's products ``z``, without big-M),
  whose optimal response profile is then re-solved as the LP of that profile with tight tolerances (HiGHS meets MILP
  constraints to 1e-6 only), so the returned strategy induces its responses under the game's ``TIE_TOL``.
* :func:`best_pure_commitment`, :func:`uniform_commitment`: the baselines every learner is compared with.
* :func:`nash_equilibria`: every Nash equilibrium found by support enumeration (all of them in a nondegenerate
  game), of the Harsanyi normal form when there are several types; the Stackelberg value is never below the leader's
  value in any of them (von Stengel and Zamir, 2010), which the tests check on random games.

Every solver returns a :class:`~stratgym.baselines.results.StackelbergResult` evaluated by the game's own follower
(:func:`~stratgym.games.matrix.evaluate_commitment`: ties within ``TIE_TOL``, to the leader): ``theta`` the leader's
strategy ``(m,)``, ``effort`` the types' columns ``(K,)``, ``principal_value`` the leader's expected payoff.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from math import comb

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix

from stratgym.baselines.highs import LP_FEASIBILITY_TOLERANCE, incentive_lead, rescale_small_rows
from stratgym.baselines.results import Certificate, StackelbergResult
from stratgym.games.behaviour import Rational, choose_exact_method
from stratgym.games.validation import as_nonnegative_float, check_instance
from stratgym.games.matrix import Commitment, MatrixGame, evaluate_commitment, follower_response, follower_scales
from stratgym.games.ties import TIE_TOL

#: HiGHS tolerances of the LPs: tight, so that the incentive constraints (in units of the follower's scale) hold to
#: well within ``TIE_TOL``.
LP_OPTIONS = {"primal_feasibility_tolerance": LP_FEASIBILITY_TOLERANCE, "dual_feasibility_tolerance": 1e-10}
#: Factor on the MILP's incentive rows: HiGHS meets MILP constraints to 1e-6, which this makes 1e-9 of the
#: follower's scale on those rows. Its linking rows (``z`` against ``x``) still hold to 1e-6 only, so the MILP's
#: profile is re-solved by the tight LP (:func:`profile_lp`) before anything is returned.
INCENTIVE_SCALE = 1e3
#: Support enumeration is exponential; it refuses games with more support pairs than this.
MAX_SUPPORT_PAIRS = 200_000
#: Equilibria closer than this (max abs difference of the strategies) are one.
NASH_TOL = 1e-9


def _result(game: MatrixGame, outcome: Commitment, method: str, started: float, gap: float = 0.0,
            bound: float | None = None) -> StackelbergResult:
    certificate = Certificate(optimality_gap=gap, optimum_bound=bound, incentive_margins=outcome.incentive_margins)
    return StackelbergResult(theta=outcome.strategy, effort=outcome.responses, principal_value=outcome.leader_value,
                             agent_value=outcome.follower_value, agent=Rational(), method=method,
                             certificate=certificate, diagnostics={"leader_values": outcome.leader_values},
                             solve_time=time.perf_counter() - started)


def profile_lp(game: MatrixGame, profile, margin: float = 0.0, tie_tol: float = TIE_TOL) -> np.ndarray | None:
    """The leader's best strategy ``(m,)`` among those against which type ``k`` plays ``profile[k]`` (``(K,)``
    columns), each beating every other column by ``margin`` units of :func:`follower_scales` (``margin = 0``: each
    within the follower's tie zone ``tie_tol`` of the best, :func:`incentive_lead`); ``None`` if none does.

    LP (HiGHS): maximize ``sum_k p_k x . A^k[:, j_k]`` s.t. ``x . (B^k[:, j] - B^k[:, j_k]) / s_k <= -lead`` for
    every type ``k`` and column ``j != j_k``, ``x`` on the simplex. Entries are cleaned of solver noise (clipped at 0,
    renormalized).
    """
    profile = np.asarray(profile, dtype=int)
    types = np.arange(game.n_types)
    objective = -(game.type_prior[:, None] * game.leader_payoffs[types, :, profile]).sum(axis=0)
    rows = []
    for k, j in enumerate(profile):
        scaled = game.follower_payoffs[k] / follower_scales(game)[k]
        rows.extend(scaled[:, other] - scaled[:, j] for other in range(game.n_follower_actions) if other != j)
    m = game.n_leader_actions
    a_ub = np.array(rows).reshape(-1, m)
    unit = rescale_small_rows(a_ub)  # nearly proportional columns: their rows in their own units
    a_ub, b_ub = a_ub / unit[:, None], np.full(len(rows), -incentive_lead(margin, tie_tol)) / unit
    a_ub, b_ub = (a_ub, b_ub) if rows else (None, None)
    solution = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=np.ones((1, m)), b_eq=[1.0], bounds=(0, None),
                       method="highs", options=LP_OPTIONS)
    if solution.status != 0:
        return None
    strategy = np.maximum(solution.x, 0.0)
    return strategy / strategy.sum()


def _dobss(game: MatrixGame, margin: float, tie_tol: float = TIE_TOL) -> tuple[np.ndarray | None, np.ndarray | None,
                                                                               float]:
    """The DOBSS-style MILP's optimal response profile ``(K,)``, its strategy ``(m,)`` and its dual bound on the
    leader's value (``None, None, -inf`` if no strategy meets ``margin``).

    Variables as DOBSS's: ``x`` (m), ``z^k_ij = x_i q^k_j`` (K m n, in [0, 1]), binaries ``q^k_j`` (K n). Constraints:
    ``sum_i x_i = 1``, ``sum_j z^k_ij = x_i``, ``sum_i z^k_ij = q^k_j``, ``sum_j q^k_j = 1`` (so ``z^k_.j`` is ``x``
    for the column ``j`` type ``k`` plays and 0 for the others), and the follower's incentives written on ``z``
    instead of DOBSS's big-M rows on ``x``: ``sum_i z^k_ij (B^k_ij - B^k_ij') / s_k >= lead q^k_j`` for every
    ``j' != j`` (``lead``: :func:`incentive_lead`), multiplied by ``INCENTIVE_SCALE``. The feasible profiles and strategies are DOBSS's, but without a
    big-M the LP relaxation is tighter (the formulations are compared by Casorrán, Fortz, Labbé and Ordóñez, EJOR
    2019); with HiGHS's presolve off (it slows these small programs down), random games with 5 types and 10 x 10
    payoffs solve about 2x faster than with DOBSS's rows, 2 types 16x (``scripts/bench_matrix.py``). Objective:
    ``sum_k p_k sum_ij A^k_ij z^k_ij``, scaled by ``1 / max|A|`` (HiGHS's gap is absolute).
    """
    k_types, m, n = game.follower_payoffs.shape
    n_z = k_types * m * n
    size = m + n_z + k_types * n
    scale = max(float(np.abs(game.leader_payoffs).max()), 1e-300)
    cost = np.zeros(size)
    cost[m:m + n_z] = -(game.type_prior[:, None, None] * game.leader_payoffs / scale).ravel()
    z = m + np.arange(n_z).reshape(k_types, m, n)
    q = m + n_z + np.arange(k_types * n).reshape(k_types, n)
    blocks, lower, upper = [], [], []

    def rows(columns: np.ndarray, values: np.ndarray, low: float, high: float) -> None:
        """Rows with the entries ``values`` at ``columns`` (both ``(rows, entries)``), between ``low`` and ``high``."""
        blocks.append((columns, values))
        lower.extend([low] * len(columns))
        upper.extend([high] * len(columns))

    rows(np.arange(m)[None], np.ones((1, m)), 1.0, 1.0)
    others = ~np.eye(n, dtype=bool)
    lead = incentive_lead(margin, tie_tol)
    for k in range(k_types):
        scaled = game.follower_payoffs[k] / follower_scales(game)[k]
        rows(np.column_stack([z[k], np.arange(m)]), np.column_stack([np.ones((m, n)), -np.ones(m)]), 0.0, 0.0)
        rows(np.column_stack([z[k].T, q[k]]), np.column_stack([np.ones((n, m)), -np.ones(n)]), 0.0, 0.0)
        rows(q[k][None], np.ones((1, n)), 1.0, 1.0)
        # Row (j, j'): the column j beats j' by the margin wherever type k plays j.
        chosen, rival = np.nonzero(others)
        gains = (scaled[:, chosen] - scaled[:, rival]).T
        factor = INCENTIVE_SCALE / rescale_small_rows(gains)[:, None]  # nearly proportional columns: own units
        rows(np.column_stack([z[k].T[chosen], q[k][chosen]]),
             np.column_stack([factor * gains, -lead * factor]), 0.0, np.inf)
    row_index = np.concatenate([np.repeat(np.arange(len(c)), c.shape[1]) + offset for (c, _), offset in
                                zip(blocks, np.cumsum([0] + [len(c) for c, _ in blocks[:-1]]))])
    matrix = coo_matrix((np.concatenate([v.ravel() for _, v in blocks]),
                         (row_index, np.concatenate([c.ravel() for c, _ in blocks]))), shape=(len(lower), size))
    integrality = np.zeros(size)
    integrality[m + n_z:] = 1
    solution = milp(cost, integrality=integrality, bounds=Bounds(np.zeros(size), np.ones(size)),
                    constraints=LinearConstraint(matrix.tocsr(), lower, upper),
                    options={"mip_rel_gap": 0.0, "presolve": False})
    if solution.x is None:
        return None, None, -np.inf
    profile = solution.x[m + n_z:].reshape(k_types, n).argmax(axis=1)
    strategy = np.maximum(solution.x[:m], 0.0)
    return profile, strategy / strategy.sum(), -float(solution.mip_dual_bound) * scale


def solve(game: MatrixGame, margin: float = 0.0, tie_tol: float = TIE_TOL, *, agent=None) -> StackelbergResult:
    """The leader's optimal commitment (strong Stackelberg: followers break ties, within ``tie_tol`` units of
    :func:`~stratgym.games.matrix.follower_scales`, in the leader's favour).

    The optimum is defined with that same tie rule: a column within ``tie_tol`` of a type's best counts as one it may
    play (:func:`incentive_lead`; the programs' zone is a hair, twice the LPs' tolerance, inside the follower's), so
    a commitment earns no more against the game's follower than the optimum, up to what that hair is worth (it can
    matter only where a type's incentives are almost parallel; measured: 1 of 40 games with columns 1e-10..1e-8
    apart, tests/test_matrix.py).
    ``margin > 0`` asks for strict incentives: every type's column beats its alternatives by ``margin`` units (the
    robust optimum); ``ValueError`` if no strategy achieves it. Method ``"lp"`` (one type: the best of one LP per
    column) or ``"milp"`` (several: DOBSS, then the LP of its profile). ``certificate``: ``optimality_gap`` is 0 for
    ``"lp"`` and the MILP's dual bound (``optimum_bound``) minus the value for ``"milp"`` (HiGHS's absolute gap, 1e-6
    of ``max|A|``, at most), and each type's ``incentive_margins`` (units of its scale); ``diagnostics``: each
    type's ``leader_values``. ``agent`` (the follower; ``None``: ``Rational()``) must be one these methods handle:
    :class:`~stratgym.games.behaviour.NoExactMethodError` otherwise (e.g. a quantal follower).
    """
    check_instance(game, MatrixGame, "game")
    choose_exact_method(Rational() if agent is None else agent, game, "baselines.matrix.solve")
    margin = as_nonnegative_float(margin, "margin")
    started = time.perf_counter()
    if game.n_types == 1:
        candidates = [profile_lp(game, [j], margin, tie_tol) for j in range(game.n_follower_actions)]
        outcomes = [evaluate_commitment(game, x, tie_tol) for x in candidates if x is not None]
        if not outcomes:
            raise ValueError(f"no strategy gives the follower a best response by margin {margin:g}")
        return _result(game, max(outcomes, key=lambda outcome: outcome.leader_value), "lp", started)
    profile, milp_strategy, bound = _dobss(game, margin, tie_tol)
    if profile is None:
        raise ValueError(f"no strategy gives every follower type a best response by margin {margin:g}")
    # HiGHS's MILP meets constraints to 1e-6 only, so its profile may rest on a near tie the game's follower does not
    # see: polish both that profile and the one its strategy actually induces with the tight LP, and keep the best
    # of those and the MILP's own strategy that has the margin asked for.
    candidates = [profile_lp(game, profile, margin, tie_tol), milp_strategy,
                  profile_lp(game, follower_response(game, milp_strategy, tie_tol), margin, tie_tol)]
    outcomes = [evaluate_commitment(game, x, tie_tol) for x in candidates if x is not None]
    outcomes = [outcome for outcome in outcomes if margin == 0 or outcome.incentive_margins.min() >= margin - tie_tol]
    if not outcomes:
        raise ValueError(f"no strategy gives every follower type a best response by margin {margin:g} "
                         f"(the MILP's profile {profile.tolist()} is infeasible at LP precision)")
    outcome = max(outcomes, key=lambda candidate: candidate.leader_value)
    return _result(game, outcome, "milp", started, gap=max(0.0, bound - outcome.leader_value), bound=bound)


def best_pure_commitment(game: MatrixGame, tie_tol: float = TIE_TOL) -> StackelbergResult:
    """The best row to commit to with certainty (ties lowest row first)."""
    check_instance(game, MatrixGame, "game")
    started = time.perf_counter()
    outcomes = [evaluate_commitment(game, row, tie_tol) for row in np.eye(game.n_leader_actions)]
    return _result(game, max(outcomes, key=lambda outcome: outcome.leader_value), "best-pure", started,
                   gap=float("inf"))


def uniform_commitment(game: MatrixGame, tie_tol: float = TIE_TOL) -> StackelbergResult:
    """The uniform strategy: where a learner mapping a zero Box action to the simplex starts."""
    check_instance(game, MatrixGame, "game")
    started = time.perf_counter()
    uniform = np.full(game.n_leader_actions, 1.0 / game.n_leader_actions)
    return _result(game, evaluate_commitment(game, uniform, tie_tol), "uniform", started, gap=float("inf"))


# ---------------------------------------------------------------------------------------------
# Nash equilibria (the simultaneous-move benchmark)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NashEquilibrium:
    """A Nash equilibrium of the game played simultaneously (types drawn first, each knowing only its own).

    Attributes:
        leader_strategy: ``(m,)``.
        follower_strategy: ``(K, n)`` each type's mixed strategy.
        leader_value: the leader's expected payoff.
        follower_value: the follower's expected payoff (over types).
    """

    leader_strategy: np.ndarray
    follower_strategy: np.ndarray
    leader_value: float
    follower_value: float


def harsanyi_normal_form(game: MatrixGame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Bayesian game as one bimatrix game: the follower's pure strategies are the type-contingent profiles
    ``(j_1..j_K)`` (``n^K`` of them, in ``itertools.product`` order), with expected payoffs over types.

    Returns leader payoffs ``(m, n^K)``, follower payoffs ``(m, n^K)`` and the profiles ``(n^K, K)``.
    """
    profiles = np.array(list(itertools.product(range(game.n_follower_actions), repeat=game.n_types)), dtype=int)
    types = np.arange(game.n_types)[None, :]
    # payoffs[types, :, profiles] is (n^K, K, m): type k's payoffs of every row against its column in each profile.
    leader = np.einsum("k,pki->ip", game.type_prior, game.leader_payoffs[types, :, profiles])
    follower = np.einsum("k,pki->ip", game.type_prior, game.follower_payoffs[types, :, profiles])
    return leader, follower, profiles


def _indifferent(payoffs: np.ndarray) -> np.ndarray | None:
    """A mixed strategy over the columns of ``payoffs`` ``(s, s)`` making every row's payoff equal, or ``None``."""
    size = payoffs.shape[1]
    system = np.zeros((payoffs.shape[0] + 1, size + 1))
    system[:-1, :size], system[:-1, size], system[-1, :size] = payoffs, -1.0, 1.0
    target = np.zeros(payoffs.shape[0] + 1)
    target[-1] = 1.0
    solution, *_ = np.linalg.lstsq(system, target, rcond=None)
    if not np.allclose(system @ solution, target, atol=NASH_TOL, rtol=0.0) or solution[:size].min() < -NASH_TOL:
        return None
    return np.maximum(solution[:size], 0.0)


def nash_equilibria(game: MatrixGame) -> list[NashEquilibrium]:
    """The Nash equilibria with supports of equal size (every equilibrium of a nondegenerate game), by support
    enumeration on :func:`harsanyi_normal_form`; ``ValueError`` when there are more than ``MAX_SUPPORT_PAIRS``
    support pairs. Checked: no player gains more than ``NASH_TOL`` (times the payoffs' scale) by deviating."""
    check_instance(game, MatrixGame, "game")
    leader, follower, profiles = harsanyi_normal_form(game)
    m, columns = leader.shape
    sizes = range(1, min(m, columns) + 1)
    pairs = sum(comb(m, s) * comb(columns, s) for s in sizes)
    if pairs > MAX_SUPPORT_PAIRS:
        raise ValueError(f"support enumeration over {pairs} support pairs (m={m}, {columns} follower strategies) "
                         f"exceeds MAX_SUPPORT_PAIRS={MAX_SUPPORT_PAIRS}")
    tolerance = NASH_TOL * max(1.0, float(np.abs(leader).max()), float(np.abs(follower).max()))
    found: list[NashEquilibrium] = []
    for size in sizes:
        for rows in itertools.combinations(range(m), size):
            for cols in itertools.combinations(range(columns), size):
                y = _indifferent(leader[np.ix_(rows, cols)])
                x = None if y is None else _indifferent(follower[np.ix_(rows, cols)].T)
                if x is None:
                    continue
                x_full, y_full = np.zeros(m), np.zeros(columns)
                x_full[list(rows)], y_full[list(cols)] = x, y
                leader_value, follower_value = x_full @ leader @ y_full, x_full @ follower @ y_full
                if (leader @ y_full).max() > leader_value + tolerance or (x_full @ follower).max() > follower_value + tolerance:
                    continue
                behaviour = np.zeros((game.n_types, game.n_follower_actions))
                for k in range(game.n_types):
                    np.add.at(behaviour[k], profiles[:, k], y_full)
                if any(np.abs(x_full - e.leader_strategy).max() <= NASH_TOL
                       and np.abs(behaviour - e.follower_strategy).max() <= NASH_TOL for e in found):
                    continue
                found.append(NashEquilibrium(x_full, behaviour, float(leader_value), float(follower_value)))
    return found
