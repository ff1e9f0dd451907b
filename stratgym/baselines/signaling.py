"""Signaling policies of the recourse persuasion game: the optimal BIC scheme (an LP over equivalence
regions), full revelation, no information, and the Dughmi–Xu sampled epsilon-BIC approximation.

Every policy is a scheme ``q`` of shape ``(R, A)`` (row ``s`` = distribution of the recommendation in
region ``s``) returned in a :class:`SignalingResult`, evaluated exactly against the region masses with
the agent best-responding to each recommendation's posterior (ties to obedience, then to the
principal; see :mod:`stratgym.games.persuasion`). Ties are the one rule of :mod:`stratgym.games.ties`: posterior
utilities within ``tie_tol`` (``TIE_TOL``) are tied; these float64 schemes add no precision term, while
``PersuasionScheme-v0`` widens the zone by its float32 action's precision, so the float32 encoding of
:func:`optimal_scheme` earns the LP value there.

BIC violations are never silent: the exact solvers (:func:`optimal_scheme`, :func:`full_revelation`,
:func:`no_information`) raise :class:`BICViolationError` rather than return a scheme whose BIC slack
is below ``-tie_tol``; :func:`evaluate` (any scheme) returns the values under the agent's actual
responses together with the slack and ``is_bic``; the sampled mechanism is epsilon-BIC by design and
reports an estimate of its ex-ante slack with a standard error, judged against ``epsilon`` by a confidence
bound valid for any bounded payoffs (:func:`ex_ante_bic_slack`): one that fails raises :class:`BICViolationError` too, unless asked for with
``allow_violation=True``, when it comes with a :class:`BICViolationWarning`; :func:`simulate` estimates the
slack of any scheme.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.optimize import linprog

from stratgym.baselines.highs import LP_FEASIBILITY_TOLERANCE, incentive_lead, rescale_small_rows
from stratgym.baselines.results import (SE_PER_ERROR_BAR, Certificate, PlayerValues, SolverResult, deprecated_alias,
                                       deprecated_property, standard_error)
from stratgym.games.validation import (as_bool, as_nonnegative_float, as_positive_int, as_real_array, check_instance,
                                        check_range)
from stratgym.games.behaviour import Bayesian, as_behaviour, choose_exact_method
from stratgym.games.persuasion import (TIE_TOL, PersuasionGame, Regions, check_rng, check_scheme,
                                       decision_patterns, equivalence_regions, evaluate_scheme, full_revelation_scheme,
                                       no_information_scheme, region_payoffs)

#: HiGHS tolerances of the signaling LP; tight so that BIC holds to ``TIE_TOL`` after normalization.
LP_OPTIONS = {"primal_feasibility_tolerance": LP_FEASIBILITY_TOLERANCE, "dual_feasibility_tolerance": 1e-10}
#: Dual values and reduced costs beyond this count as non-zero when fixing the LP's optimal face.
DUAL_TOL = 1e-9
#: Scheme entries below this are solver noise and are set to 0 (rows are renormalized).
ENTRY_TOL = 1e-12
#: An estimated ex-ante BIC slack fails only if its upper confidence bound at level ``1 - BIC_DELTA`` (for all the
#: constraints at once) is below ``-(epsilon + tie_tol)``: a valid mechanism is flagged with probability at most this.
BIC_DELTA = 1e-3


class BICViolationError(RuntimeError):
    """A solver produced a scheme the agent would not follow (BIC slack below ``-tie_tol``; for the sampled
    mechanism, an upper confidence bound on its ex-ante slack below ``-(epsilon + tie_tol)``, see ``BIC_DELTA``)."""


class BICViolationWarning(UserWarning):
    """A violating sampled mechanism was returned because the caller passed ``allow_violation=True``."""


@dataclass(frozen=True, kw_only=True)
class SignalingResult(SolverResult):
    """A signaling scheme with both players' expected utilities (the common :class:`SolverResult` contract).

    Attributes (beyond :class:`SolverResult`'s ``principal_value``, ``agent_value``, ``method``, ``solve_time``,
    ``certificate``, ``principal_se``, ``agent_se``):
        scheme: ``(R, A)`` recommendation probabilities per region (rows on the simplex): the ``policy``.
        patterns: ``(R, A)`` the regions' decision patterns.
        masses: ``(R,)`` the regions' prior masses used for the values.
        responses: ``(A,)`` the agent's action on each recommendation (the values are those of this play).
        mass_method: how ``masses`` were obtained (``finite-sum``, ``orthant``, ``monte-carlo``).

    ``method`` is ``"lp"``, ``"full-revelation"``, ``"no-information"``, ``"sampled-eps-bic"`` or ``"given"``.
    ``principal_se``: exact evaluations propagate the masses' error bars ``e_s`` (``Regions.mass_errors``, about 3
    standard errors each, so ``e_s / 3`` here): with ``v_s`` the principal's expected utility in region ``s``, the
    value is ``sum_s pi_s v_s`` and both the masses and their estimates sum to 1, so its standard error is at most
    ``sum_s (e_s / 3) |v_s - principal_value|`` (0 for ``finite-sum``; adding the regions' errors is conservative).

    ``certificate`` (:class:`~stratgym.baselines.results.Certificate`): ``bic_slack`` of exact evaluations (every
    method but ``"sampled-eps-bic"``) is the smallest posterior advantage of following over the best alternative
    (utility units, see :class:`stratgym.games.persuasion.SchemeEvaluation`), with ``bic_slack_se = 0`` and
    ``bic_slack_bound = None``; for ``"sampled-eps-bic"`` it is the estimated ex-ante slack in the units of the LP's
    BIC constraints, its standard error and an upper confidence bound at level ``1 - BIC_DELTA``
    (:func:`ex_ante_bic_slack`; see :func:`sampled_mechanism`). ``epsilon``: the BIC relaxation the scheme was built
    for (0 for the exact solvers); ``tie_tol``: posterior utilities within it are ties.
    """

    scheme: np.ndarray
    patterns: np.ndarray
    masses: np.ndarray
    responses: np.ndarray
    mass_method: str
    policy_field: ClassVar[str] = "scheme"

    @property
    def is_bic(self) -> bool:
        """Whether the scheme is (epsilon-)BIC (``certificate.is_bic``): for exact evaluations (``epsilon = 0``), the
        agent follows every recommendation; an estimated slack fails only when its confidence bound does."""
        return self.certificate.is_bic

    @property
    def value_error(self) -> float:
        """Deprecated: about 3 standard errors of ``principal_value``; use ``principal_se`` or ``ci95()``."""
        deprecated_alias("SignalingResult.value_error (3 standard errors)", "principal_se (one) or ci95()")
        return SE_PER_ERROR_BAR * self.principal_se

    bic_slack = deprecated_property("certificate.bic_slack")
    bic_slack_se = deprecated_property("certificate.bic_slack_se")
    bic_slack_bound = deprecated_property("certificate.bic_slack_bound")
    epsilon = deprecated_property("certificate.epsilon")
    tie_tol = deprecated_property("certificate.tie_tol")


def _as_regions(game_or_regions: PersuasionGame | Regions) -> Regions:
    if isinstance(game_or_regions, Regions):
        return game_or_regions
    if isinstance(game_or_regions, PersuasionGame):
        return equivalence_regions(game_or_regions)
    raise ValueError(f"game must be a PersuasionGame or Regions, got {type(game_or_regions).__name__}")


def _result(regions: Regions, scheme: np.ndarray, method: str, started: float, tie_tol: float) -> SignalingResult:
    evaluation = evaluate_scheme(regions, scheme, tie_tol)
    # v_s: the principal's expected utility in region s when the agent plays its responses (see principal_se).
    region_values = np.sum(scheme * regions.principal_payoffs[:, evaluation.responses], axis=1)
    principal_se = float(regions.mass_errors @ np.abs(region_values - evaluation.principal_value)) / SE_PER_ERROR_BAR
    return SignalingResult(scheme=scheme, patterns=regions.patterns, masses=regions.masses,
                           principal_value=evaluation.principal_value, agent_value=evaluation.agent_value,
                           certificate=Certificate(bic_slack=evaluation.bic_slack, tie_tol=tie_tol),
                           responses=evaluation.responses, method=method, solve_time=time.perf_counter() - started,
                           mass_method=regions.mass_method, principal_se=principal_se)


def _checked(result: SignalingResult) -> SignalingResult:
    if not result.is_bic:
        raise BICViolationError(f"{result.method} scheme violates BIC: slack {result.certificate.bic_slack:.3g} "
                                f"< -{result.certificate.tie_tol:g}")
    return result


def evaluate(game_or_regions: PersuasionGame | Regions, scheme, tie_tol: float = TIE_TOL) -> SignalingResult:
    """Evaluate any scheme ``(R, A)`` exactly; the agent best-responds to each posterior (check ``is_bic``)."""
    regions = _as_regions(game_or_regions)
    started = time.perf_counter()
    return _result(regions, check_scheme(scheme, regions.n_regions, regions.n_actions), "given", started, tie_tol)


def obedient_scheme(scheme, responses) -> np.ndarray:
    """Relabel each recommendation ``a`` as the action ``responses[a]`` the agent takes on it (revelation principle).

    Merging recommendations that lead to the same action keeps both players' values and makes the
    scheme BIC: each merged posterior is a mixture of posteriors under which that action is a best response.
    """
    scheme = np.asarray(scheme, dtype=np.float64)
    merged = np.zeros_like(scheme)
    np.add.at(merged.T, np.asarray(responses), scheme.T)
    return merged


def solve_signaling_lp(principal_payoffs, agent_payoffs, masses, epsilon: float = 0.0,
                       bic_margin: float = 0.0, tie_tol: float = 0.0) -> np.ndarray:
    """The principal-optimal (epsilon-)BIC scheme ``(R, A)`` for payoff tables ``(R, A)`` and masses ``(R,)``.

    LP over ``q`` (``scipy.optimize.linprog``, HiGHS): maximize ``sum_s pi_s sum_a q_s(a) u_P(a, s)``
    s.t. ``sum_s pi_s q_s(a) [u_A(a, s) - u_A(b, s) - lead] >= -epsilon`` for all ``a != b`` (ex-ante
    form, as in Dughmi–Xu) and every ``q_s`` on the simplex. ``lead`` is
    :func:`~stratgym.baselines.highs.incentive_lead`: ``bic_margin > 0`` asks for strict incentives (following
    beats every alternative by ``bic_margin`` in posterior expected utility: the robust optimum; ``ValueError`` if no
    scheme achieves it), else a recommendation may trail the best action by the agent's tie zone ``tie_tol`` (a
    hair inside it), which the agent obeys (:func:`optimal_scheme` passes ``TIE_TOL``; 0: exact BIC). Rows between
    nearly equal actions (utilities 1e-9 apart: coefficients HiGHS drops) are held in their own units.

    Ties among optimal schemes go to the agent: a second LP maximizes the agent's expected utility
    over the first LP's optimal face, which is the set of feasible schemes complementary to HiGHS's
    dual solution (tight constraints with a dual value, and variables with a reduced cost, beyond
    ``DUAL_TOL`` are fixed), so the principal's value is not traded away. What remains is HiGHS's
    (deterministic) vertex; should HiGHS find the face numerically infeasible, the first LP's vertex
    is kept.

    Regions of zero mass are left out of the LPs and recommend, among the actions recommended
    elsewhere, the one the principal values most there (lowest index on ties), which changes no value
    and no posterior. Entries below ``ENTRY_TOL`` are dropped as solver noise.
    """
    principal_payoffs = as_real_array(principal_payoffs, "principal_payoffs", ndim=2)
    agent_payoffs = as_real_array(agent_payoffs, "agent_payoffs", shape=principal_payoffs.shape)
    n_regions, n_actions = principal_payoffs.shape
    masses = as_real_array(masses, "masses", shape=(n_regions,))
    check_range(masses, "masses", low=0.0)
    epsilon = as_nonnegative_float(epsilon, "epsilon")
    bic_margin = as_nonnegative_float(bic_margin, "bic_margin")
    lead = incentive_lead(bic_margin, as_nonnegative_float(tie_tol, "tie_tol"))
    positive = masses > 0
    if not positive.any():
        raise ValueError("masses must have a positive entry")
    weights = masses[positive][:, None]
    agent = agent_payoffs[positive]
    principal_objective = -(weights * principal_payoffs[positive]).ravel()
    gains = []  # row (a, b): -sum_s pi_s q_s(a) (u_A(a, s) - u_A(b, s)) <= epsilon
    for a in range(n_actions):
        for b in range(n_actions):
            if a != b:
                row = np.zeros_like(agent)
                row[:, a] = -weights[:, 0] * (agent[:, a] - agent[:, b] - lead)
                gains.append(row.ravel())
    unit = rescale_small_rows(np.array(gains).reshape(-1, agent.size))  # nearly equal actions: rows in own units
    a_ub, b_ub = np.array(gains).reshape(-1, agent.size) / unit[:, None], np.full(len(gains), epsilon) / unit
    a_eq = np.kron(np.eye(int(positive.sum())), np.ones(n_actions))
    b_eq = np.ones(a_eq.shape[0])
    bounds = np.tile([0.0, 1.0], (a_eq.shape[1], 1))
    first = _solve(principal_objective, a_ub, b_ub, a_eq, b_eq, bounds)
    if first.status == 2 and bic_margin > 0:  # without a margin the no-information scheme is always feasible
        raise ValueError(f"no scheme is BIC with bic_margin={bic_margin:g}: {first.message}")
    if first.status != 0:
        raise RuntimeError(f"signaling LP failed: {first.message}")
    tight = first.ineqlin.marginals / unit < -DUAL_TOL  # duals of the rows as written, before rescaling
    bounds[first.lower.marginals > DUAL_TOL, 1] = 0.0
    bounds[first.upper.marginals < -DUAL_TOL, 0] = 1.0
    second = _solve(-(weights * agent).ravel(), a_ub[~tight], b_ub[~tight], np.vstack([a_eq, a_ub[tight]]),
                    np.r_[b_eq, b_ub[tight]], bounds)
    solved = np.clip((second if second.status == 0 else first).x.reshape(-1, n_actions), 0.0, 1.0)
    solved[solved < ENTRY_TOL] = 0.0
    scheme = np.zeros((n_regions, n_actions))
    scheme[positive] = solved / solved.sum(axis=1, keepdims=True)
    recommended = scheme[positive].sum(axis=0) > 0
    favourite = np.argmax(np.where(recommended, principal_payoffs[~positive], -np.inf), axis=1)
    scheme[np.flatnonzero(~positive), favourite] = 1.0
    return scheme


def _solve(objective, a_ub, b_ub, a_eq, b_eq, bounds):
    return linprog(objective, A_ub=a_ub if len(a_ub) else None, b_ub=b_ub if len(b_ub) else None, A_eq=a_eq,
                   b_eq=b_eq, bounds=bounds, method="highs", options=LP_OPTIONS)


def optimal_scheme(game_or_regions: PersuasionGame | Regions, tie_tol: float = TIE_TOL,
                   bic_margin: float = 0.0, *, agent=None) -> SignalingResult:
    """The principal-optimal BIC scheme (:func:`solve_signaling_lp` with ``epsilon = 0``); ``bic_margin > 0``:
    the best scheme whose every recommendation is followed by that margin (posterior utility units), the robust
    optimum (``ValueError`` if none exists). ``agent`` (``None``: ``Bayesian()``; also ``"bayesian"`` or the number
    ``inf``) must be one the LP handles: :class:`~stratgym.games.behaviour.NoExactMethodError` otherwise (a
    ``Quantal(beta)`` agent, say, has no exact method).

    The LP solution is passed through :func:`obedient_scheme` with the agent's exact responses (the
    identity whenever HiGHS's solution is BIC within ``tie_tol``), so the returned scheme is obeyed and
    its values are the agent's actual play; ``BICViolationError`` if it still is not BIC.
    """
    regions = _as_regions(game_or_regions)
    choose_exact_method(Bayesian() if agent is None else as_behaviour(agent, regions), regions,
                        "baselines.signaling.optimal_scheme")
    started = time.perf_counter()
    scheme = solve_signaling_lp(regions.principal_payoffs, regions.agent_payoffs, regions.masses, bic_margin=bic_margin,
                                tie_tol=tie_tol)
    scheme = obedient_scheme(scheme, evaluate_scheme(regions, scheme, tie_tol).responses)
    return _checked(_result(regions, scheme, "lp", started, tie_tol))


def full_revelation(game_or_regions: PersuasionGame | Regions, tie_tol: float = TIE_TOL) -> SignalingResult:
    """Reveal the region: the agent best-responds in each (ties to the principal's favour), as a scheme."""
    regions = _as_regions(game_or_regions)
    started = time.perf_counter()
    return _checked(_result(regions, full_revelation_scheme(regions, tie_tol), "full-revelation", started, tie_tol))


def no_information(game_or_regions: PersuasionGame | Regions, tie_tol: float = TIE_TOL) -> SignalingResult:
    """Reveal nothing: one action everywhere, the agent's best response to the prior (ties to the principal)."""
    regions = _as_regions(game_or_regions)
    started = time.perf_counter()
    return _checked(_result(regions, no_information_scheme(regions, tie_tol), "no-information", started, tie_tol))


# ---------------------------------------------------------------------------------------------
# Evaluation by simulation
# ---------------------------------------------------------------------------------------------

def ex_ante_bic_slack(rows, agent_payoffs, costs, delta: float = BIC_DELTA) -> tuple[float, float, float]:
    """Estimate a mechanism's ex-ante BIC slack from independent draws: ``(slack, standard error, upper bound)``.

    ``rows`` ``(n, A)``: the recommendation distribution the mechanism used on draw ``i``; ``agent_payoffs``
    ``(n, A)``: ``u_A`` of every action under draw ``i``'s rule; ``costs`` ``(A,)``: the actions' costs, so that
    ``u_A(a)`` lies in ``[-c(a), 1 - c(a)]``. The ex-ante slack of following ``a`` rather than ``b`` is
    ``g(a, b) = E[q(a) (u_A(a) - u_A(b))]``, the left side of the signaling LP's constraint (posterior slack times
    ``P(a)``); it is estimated by the mean over draws, with the standard error ``std(ddof=1) / sqrt(n)`` (``inf``
    for ``n = 1``). Returns the smallest estimate over ``a != b`` with ``a`` recommended on some draw (``+inf`` if no
    pair qualifies: one action), the standard error of that pair, and the smallest per-pair upper confidence bound.

    Why a bound and not a number of standard errors: a sampled mechanism spends its epsilon on many draws and earns
    it back on rare ones (a draw where a cheap action is approved and the default is not), so ``g``'s estimate is
    heavy-tailed and its standard error too small at a few hundred draws. The bound is the empirical Bernstein
    inequality (Maurer and Pontil 2009, Theorem 4) for the pair's range ``[min(0, -1 - c_a + c_b), max(0, 1 - c_a +
    c_b)]``, Bonferroni-corrected over all ``k = A (A - 1)`` pairs: ``mean + sqrt(2 V L / n) + 7 width L / (3 (n - 1))``,
    ``V`` the sample variance, ``L = ln(2 k / delta)``. With probability ``>= 1 - delta`` every true slack is below its
    bound, so a bound below ``-epsilon`` certifies a violation. The price is power: the bound sits about
    ``7 width L / (3 n)`` above the estimate (0.2 for 4 actions at 200 draws, 0.04 at 1,000), so only violations
    larger than that are caught; take more draws for a sharper check.
    """
    rows = as_real_array(rows, "rows", ndim=2)
    agent = as_real_array(agent_payoffs, "agent_payoffs", shape=rows.shape)
    n, n_actions = rows.shape
    costs = as_real_array(costs, "costs", shape=(n_actions,))
    delta = as_nonnegative_float(delta, "delta", positive=True)
    # Moments of G_i(a, b) = r_ia u_ia - r_ia u_ib from (A, A) products, without an (n, A, A) array.
    own = np.sum(rows * agent, axis=0)
    mean = (own[:, None] - rows.T @ agent) / n
    squares = rows**2
    own_squares = np.sum(squares * agent**2, axis=0)
    second = (own_squares[:, None] - 2.0 * (squares * agent).T @ agent + squares.T @ agent**2) / n
    variance = np.maximum(second - mean**2, 0.0) * n / (n - 1) if n > 1 else np.full_like(mean, np.inf)
    candidates = (rows.sum(axis=0) > 0)[:, None] & ~np.eye(n_actions, dtype=bool)
    if not candidates.any():
        return float("inf"), 0.0, float("inf")
    pair = np.unravel_index(np.argmin(np.where(candidates, mean, np.inf)), mean.shape)
    if n == 1:
        return float(mean[pair]), float("inf"), float("inf")
    shift = costs[None, :] - costs[:, None]  # c_b - c_a at [a, b]
    width = np.maximum(1.0 + shift, 0.0) - np.minimum(-1.0 + shift, 0.0)
    log_term = np.log(2.0 * n_actions * (n_actions - 1) / delta)  # fixed k: a data-chosen count would void the level
    bounds = mean + np.sqrt(2.0 * variance * log_term / n) + 7.0 * width * log_term / (3.0 * (n - 1))
    return float(mean[pair]), float(np.sqrt(variance[pair] / n)), float(np.where(candidates, bounds, np.inf).min())


@dataclass(frozen=True)
class SimulationEstimate(PlayerValues):
    """Monte Carlo estimates of a scheme's values, with standard errors (``ci95()`` for a 95% interval).

    Attributes:
        principal_value, principal_se, agent_value, agent_se: means of realized ``u_P``, ``u_A`` and their standard
            errors (``std(ddof=1) / sqrt(n_rounds)``; ``inf`` for one round).
        n_rounds: number of simulated rounds.
        bic_slack, bic_slack_se, bic_slack_bound: the scheme's estimated ex-ante BIC slack, its standard error
            and an upper confidence bound at level ``1 - BIC_DELTA`` (:func:`ex_ante_bic_slack`).
            Exact counterpart: ``min_{a != b} sum_s pi_s q_s(a) (u_A(a, s) - u_A(b, s))`` over recommended ``a``.
    """

    principal_value: float
    principal_se: float
    agent_value: float
    agent_se: float
    n_rounds: int
    bic_slack: float
    bic_slack_se: float
    bic_slack_bound: float

    @property
    def principal_error(self) -> float:
        """Deprecated: 3 standard errors of ``principal_value``; use ``principal_se`` or ``ci95()``."""
        deprecated_alias("SimulationEstimate.principal_error (3 standard errors)", "principal_se (one) or ci95()")
        return SE_PER_ERROR_BAR * self.principal_se

    @property
    def agent_error(self) -> float:
        """Deprecated: 3 standard errors of ``agent_value``; use ``agent_se`` or ``ci95('agent')``."""
        deprecated_alias("SimulationEstimate.agent_error (3 standard errors)", "agent_se (one) or ci95('agent')")
        return SE_PER_ERROR_BAR * self.agent_se


def simulate(game: PersuasionGame, regions: Regions, scheme, rng: np.random.Generator, n_rounds: int = 10_000,
             tie_tol: float = TIE_TOL) -> SimulationEstimate:
    """Play ``scheme`` ``(R, A)`` ``n_rounds`` times: draw ``theta`` from the prior, recommend, let the agent act.

    The agent's action on each recommendation is its exact posterior best response
    (:func:`stratgym.games.persuasion.evaluate_scheme`); the payoffs are computed from ``theta`` and the
    game directly, not from the region tables. The BIC slack is estimated from the same rounds with each
    round's whole scheme row (not only the drawn recommendation), which lowers its variance.
    ``regions`` must have been computed for ``game`` (:meth:`~stratgym.games.persuasion.Regions.check_game`:
    another game's regions would give numbers about neither). ``RuntimeError`` if a draw falls outside ``regions``.
    """
    check_instance(game, PersuasionGame, "game")
    check_instance(regions, Regions, "regions")
    regions.check_game(game)
    check_rng(rng)
    n_rounds = as_positive_int(n_rounds, "n_rounds")
    scheme = check_scheme(scheme, regions.n_regions, regions.n_actions)
    responses = evaluate_scheme(regions, scheme, tie_tol).responses
    theta = game.prior.sample(rng, n_rounds)
    patterns = decision_patterns(game, theta)
    located = regions.locate(patterns)
    if np.any(located < 0):
        raise RuntimeError("a prior draw fell outside the enumerated regions")
    rows = scheme[located]
    cumulative = np.cumsum(rows, axis=1)
    recommendation = np.minimum((rng.random(n_rounds)[:, None] >= cumulative).sum(axis=1), regions.n_actions - 1)
    action = responses[recommendation]
    played = np.arange(n_rounds), action
    principal_payoffs, agent_payoffs = region_payoffs(game, patterns)
    principal, agent = principal_payoffs[played], agent_payoffs[played]
    return SimulationEstimate(float(principal.mean()), standard_error(principal), float(agent.mean()),
                              standard_error(agent), n_rounds, *ex_ante_bic_slack(rows, agent_payoffs, game.costs))


# ---------------------------------------------------------------------------------------------
# Dughmi–Xu sampled epsilon-BIC approximation
# ---------------------------------------------------------------------------------------------

def sampled_recommendation(game: PersuasionGame, theta, rng: np.random.Generator, n_samples: int = 200,
                           epsilon: float = 0.01) -> np.ndarray:
    """The sampled mechanism's recommendation distribution ``(A,)`` for the realized rule ``theta`` ``(m,)``.

    Draws ``n_samples - 1`` rules from the prior, places ``theta`` among them (all weighted
    ``1 / n_samples``), solves the epsilon-BIC LP over these samples and reads ``theta``'s row. The LP
    is solved over the samples' distinct patterns (weights = pattern counts): the sample LP is invariant
    under permuting samples with equal patterns, so it has an optimum that is constant on them, and that
    optimum is the pattern LP's. Its size is at most ``n_samples`` rows, whatever the number of regions.
    """
    check_instance(game, PersuasionGame, "game")
    check_rng(rng)
    theta = as_real_array(theta, "theta", shape=(game.n_features,))
    n_samples = as_positive_int(n_samples, "n_samples")
    epsilon = as_nonnegative_float(epsilon, "epsilon")
    samples = theta[None, :] if n_samples == 1 else np.vstack([theta, game.prior.sample(rng, n_samples - 1)])
    patterns, inverse, counts = np.unique(decision_patterns(game, samples), axis=0, return_inverse=True,
                                          return_counts=True)
    principal, agent = region_payoffs(game, patterns)
    scheme = solve_signaling_lp(principal, agent, counts / n_samples, epsilon)
    return scheme[inverse.reshape(-1)[0]]


def sampled_mechanism(game: PersuasionGame, rng: np.random.Generator, n_samples: int = 200, epsilon: float = 0.01,
                      n_trials: int = 200, tie_tol: float = TIE_TOL, regions: Regions | None = None,
                      allow_violation: bool = False) -> SignalingResult:
    """The sampled mechanism, from ``n_trials`` realized rules: its scheme, values and ex-ante BIC slack.

    Each trial draws ``theta`` from the prior and runs :func:`sampled_recommendation`, giving its row
    ``q_theta`` ``(A,)``. The mechanism's row depends on ``theta`` only through its pattern (and the other samples),
    so it acts as the scheme ``qbar_s = E[q_theta | theta in region s]``, estimated by the average row per region.

    * ``regions=None`` (no enumeration: for many actions): ``patterns`` are those the trials met, ``masses`` their
      frequencies, ``scheme`` the average row per pattern. The agent is taken to follow (``responses`` is the
      identity): the values are the trial averages of ``sum_a q_theta(a) u(a, theta)``, with their standard
      errors ``principal_se`` and ``agent_se``.
    * ``regions=equivalence_regions(game)``: the scheme is aligned with ``regions`` (rows placed with
      ``regions.locate``; a region of positive mass no trial met gets one row run at its witness, a region of zero
      mass the trials' mean row, which changes no value or posterior) and evaluated exactly on their masses with
      :func:`stratgym.games.persuasion.evaluate_scheme`: the values are those of the agent's actual responses to
      the estimated scheme's posteriors (``responses``, not always obedient: epsilon-BIC may leave a recommendation
      up to ``epsilon / P(a)`` short), so the result can be compared with :func:`optimal_scheme`'s and fed to
      :func:`simulate`. ``principal_se`` adds to the masses' propagated error (see :class:`SignalingResult`) the
      standard error of the scheme's estimate, ``sqrt(sum_s pi_s^2 var_s / k_s)`` over the ``k_s`` rows of region
      ``s`` (``var_s`` their values' variance, or ``(range of u_P in s)^2 / 4`` for a single row); it does not
      cover a response that the true scheme's posterior would flip. The exact posterior slack of the estimated
      scheme is ``evaluate(regions, result.scheme).certificate.bic_slack``.

    BIC is judged ex ante in both cases, as the mechanism guarantees it: ``theta`` is exchangeable with the
    samples, so ``E[q_theta(a) (u_A(a, theta) - u_A(b, theta))] >= -epsilon`` for all ``a != b`` (the expectation of
    the per-trial LP constraint). ``certificate.bic_slack`` is the smallest trial estimate of that expectation and
    ``certificate.bic_slack_se`` its standard error (:func:`ex_ante_bic_slack`, in the LP's units: probability times
    utility); ``is_bic`` fails only when the upper confidence bound ``bic_slack_bound`` (level ``1 - BIC_DELTA``,
    valid however heavy-tailed the trials are) is below ``-(epsilon + tie_tol)``. A result that
    fails raises :class:`BICViolationError`, as the exact solvers do; ``allow_violation=True`` returns it with a
    :class:`BICViolationWarning` instead.
    """
    check_instance(game, PersuasionGame, "game")
    check_rng(rng)
    # Checked here, before any trial, rather than in the first sampled_recommendation call.
    n_samples = as_positive_int(n_samples, "n_samples")
    epsilon = as_nonnegative_float(epsilon, "epsilon")
    n_trials = as_positive_int(n_trials, "n_trials")
    tie_tol = as_nonnegative_float(tie_tol, "tie_tol")
    allow_violation = as_bool(allow_violation, "allow_violation")
    if regions is not None:
        check_instance(regions, Regions, "regions")
        regions.check_game(game)
    started = time.perf_counter()
    theta = game.prior.sample(rng, n_trials)
    rows = np.array([sampled_recommendation(game, t, rng, n_samples, epsilon) for t in theta])
    patterns = decision_patterns(game, theta)
    principal, agent = region_payoffs(game, patterns)  # (n_trials, A): each trial's payoff table
    bic_slack, bic_slack_se, bic_slack_bound = ex_ante_bic_slack(rows, agent, game.costs)
    if regions is None:
        met, inverse, counts = np.unique(patterns, axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(-1)
        per_trial_principal, per_trial_agent = np.sum(rows * principal, axis=1), np.sum(rows * agent, axis=1)
        scheme = np.zeros((met.shape[0], game.n_actions))
        np.add.at(scheme, inverse, rows)
        scheme /= counts[:, None]
        result = SignalingResult(scheme=scheme, patterns=met, masses=counts / n_trials,
                                 principal_value=float(per_trial_principal.mean()),
                                 agent_value=float(per_trial_agent.mean()), responses=np.arange(game.n_actions),
                                 method="sampled-eps-bic", mass_method="monte-carlo",
                                 principal_se=standard_error(per_trial_principal),
                                 agent_se=standard_error(per_trial_agent))
    else:
        scheme, located, rows = _induced_scheme(game, regions, rng, rows, patterns, n_samples, epsilon)
        result = _result(regions, scheme, "sampled-eps-bic", started, tie_tol)
        result = dataclasses.replace(result, principal_se=result.principal_se
                                     + _scheme_estimate_se(regions, located, rows, result.responses))
    certificate = Certificate(bic_slack=bic_slack, bic_slack_se=bic_slack_se, bic_slack_bound=bic_slack_bound,
                              epsilon=epsilon, tie_tol=tie_tol)
    result = dataclasses.replace(result, certificate=certificate, solve_time=time.perf_counter() - started)
    return _reported(result, allow_violation)


def _induced_scheme(game: PersuasionGame, regions: Regions, rng: np.random.Generator, rows: np.ndarray,
                    patterns: np.ndarray, n_samples: int, epsilon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The trials' rows ``(n, A)`` of rules with ``patterns`` ``(n, A)`` averaged per region of ``regions``, as
    :func:`sampled_mechanism` describes: ``(scheme (R, A), region of each row, rows)``, the rows run at witnesses
    appended."""
    located = regions.locate(patterns)
    if np.any(located < 0):
        raise RuntimeError("a prior draw fell outside the enumerated regions")
    unmet = np.flatnonzero((np.bincount(located, minlength=regions.n_regions) == 0) & (regions.masses > 0))
    if unmet.size:  # any rule of a region gives its LP row, so the witness stands for the region
        extra = [sampled_recommendation(game, regions.witnesses[s], rng, n_samples, epsilon) for s in unmet]
        rows, located = np.vstack([rows, extra]), np.r_[located, unmet]
    counts = np.bincount(located, minlength=regions.n_regions)
    sums = np.zeros((regions.n_regions, regions.n_actions))
    np.add.at(sums, located, rows)
    scheme = np.tile(rows.mean(axis=0), (regions.n_regions, 1))
    scheme[counts > 0] = sums[counts > 0] / counts[counts > 0, None]
    return scheme, located, rows


def _scheme_estimate_se(regions: Regions, located: np.ndarray, rows: np.ndarray, responses: np.ndarray) -> float:
    """Standard error of ``sum_s pi_s v(qbar_s, s)`` from the rows' own values ``v(q_i, s_i)`` (responses fixed):
    ``sqrt(sum_s pi_s^2 var_s / k_s)``, with the worst case ``(range of u_P in s)^2 / 4`` when ``k_s = 1``."""
    values = np.sum(rows * regions.principal_payoffs[located][:, responses], axis=1)
    counts = np.bincount(located, minlength=regions.n_regions)
    sums = np.bincount(located, weights=values, minlength=regions.n_regions)
    squares = np.bincount(located, weights=values**2, minlength=regions.n_regions)
    many = counts > 1
    variance = (np.ptp(regions.principal_payoffs, axis=1) / 2.0) ** 2
    variance[many] = np.maximum(squares[many] - sums[many] ** 2 / counts[many], 0.0) / (counts[many] - 1)
    met = counts > 0
    return float(np.sqrt(np.sum(regions.masses[met] ** 2 * variance[met] / counts[met])))


def _reported(result: SignalingResult, allow_violation: bool) -> SignalingResult:
    """``result`` if it is (epsilon-)BIC; otherwise ``BICViolationError``, or with ``allow_violation`` a warning."""
    if result.is_bic:
        return result
    bic = result.certificate
    message = (f"{result.method} mechanism violates epsilon-BIC: estimated ex-ante slack {bic.bic_slack:.3g} "
               f"(standard error {bic.bic_slack_se:.2g}), whose upper confidence bound {bic.bic_slack_bound:.3g} "
               f"(level {1 - BIC_DELTA:g}) is below -(epsilon + tie_tol) = {-(bic.epsilon + bic.tie_tol):.3g}")
    if not allow_violation:
        raise BICViolationError(message + "; pass allow_violation=True to get the result anyway")
    warnings.warn(message, BICViolationWarning, stacklevel=3)
    return result
