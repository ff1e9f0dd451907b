"""The agent's choice (ties to obedience, then to the principal) and the exact evaluation of a signaling scheme."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratgym.games.persuasion.regions import Regions
from stratgym.games.validation import as_nonnegative_float, as_real_array, check_instance, check_range
from stratgym.games.ties import TIE_TOL

# ---------------------------------------------------------------------------------------------
# Best responses and the exact evaluation of a scheme
# ---------------------------------------------------------------------------------------------

def agent_choice(agent_values, principal_values, preferred=None, tie_tol=TIE_TOL) -> np.ndarray:
    """The agent's action given expected utilities ``agent_values`` and ``principal_values`` ``(..., A)``.

    Among actions within ``tie_tol`` (a number, or one per leading index ``(...)``) of the best agent
    value: ``preferred`` ``(...)`` (the recommendation) if it is one of them (obedience); otherwise the
    one the principal values most (within ``tie_tol``), then the lowest index. Returns indices ``(...)``.
    """
    agent_values = np.asarray(agent_values, dtype=np.float64)
    tolerance = as_real_array(tie_tol, "tie_tol")
    check_range(tolerance, "tie_tol", low=0.0)
    tolerance = tolerance[..., None]
    tied = agent_values >= agent_values.max(axis=-1, keepdims=True) - tolerance
    favoured = np.where(tied, principal_values, -np.inf)  # untied actions can never be candidates below
    choice = (favoured >= favoured.max(axis=-1, keepdims=True) - tolerance).argmax(axis=-1)
    if preferred is None:
        return choice
    preferred = np.asarray(preferred)
    obeyed = (tied & (np.arange(agent_values.shape[-1]) == preferred[..., None])).any(axis=-1)
    return np.where(obeyed, preferred, choice)


def _favourite_of_the_best(agent: list[float], principal: list[float], threshold: float, tolerance: float) -> int:
    """:func:`agent_choice`'s rule when obedience fails and several actions tie, for one decision on finite lists in
    plain Python (a scheme's evaluation makes one per recommendation, where numpy's per-call overhead on
    length-``A`` rows dominated): among actions with agent value ``>= threshold``, the one the principal values most
    (within ``tolerance``), then the lowest index."""
    tied = [b for b, value in enumerate(agent) if value >= threshold]
    favourite = max([principal[b] for b in tied]) - tolerance
    return next(b for b in tied if principal[b] >= favourite)


def check_scheme(scheme, n_regions: int, n_actions: int, name: str = "scheme", atol: float = 1e-6) -> np.ndarray:
    """Validate a scheme ``(R, A)``: finite, rows on the simplex within ``atol``; return it clipped and renormalized."""
    scheme = np.asarray(scheme, dtype=np.float64)
    if scheme.shape != (n_regions, n_actions):
        raise ValueError(f"{name} must have shape (regions, actions) = ({n_regions}, {n_actions}), got {scheme.shape}")
    if not np.all(np.isfinite(scheme)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if np.any(scheme < -atol) or np.any(np.abs(scheme.sum(axis=1) - 1.0) > atol):
        raise ValueError(f"{name} rows must lie on the probability simplex (>= 0, summing to 1)")
    scheme = np.clip(scheme, 0.0, None)
    return scheme / scheme.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class SchemeEvaluation:
    """Exact outcome of a scheme under the region masses.

    Attributes:
        responses: ``(A,)`` the agent's action on each recommendation (its posterior best response,
            ties to obedience); a never-recommended action maps to itself.
        recommendation_probabilities: ``(A,)`` probability of each recommendation.
        posterior_agent_values: ``(A, A)``: ``[a, b]`` = the agent's posterior expected utility of action
            ``b`` after recommendation ``a`` (0 for never-recommended ``a``).
        principal_value, agent_value: expected ``u_P`` and ``u_A`` when the agent plays ``responses``.
        bic_slack: ``min`` over recommended ``a`` of ``E[u_A(a) | a] - max_{b != a} E[u_A(b) | a]``
            (utility units); ``>= -tie_tol`` means obedient (BIC).
    """

    responses: np.ndarray
    recommendation_probabilities: np.ndarray
    posterior_agent_values: np.ndarray
    principal_value: float
    agent_value: float
    bic_slack: float

    @property
    def obedient(self) -> bool:
        """Whether the agent follows every recommendation made with positive probability."""
        recommended = self.recommendation_probabilities > 0
        return bool(np.all(self.responses[recommended] == np.flatnonzero(recommended)))


def evaluate_scheme(regions: Regions, scheme, tie_tol: float = TIE_TOL, check: bool = True,
                    precision: float = 0.0) -> SchemeEvaluation:
    """Evaluate scheme ``(R, A)`` exactly: the agent best-responds to each recommendation's posterior.

    The joint law of (region, recommendation) is ``masses[s] * scheme[s, a]``; the posterior after
    ``a`` is that column normalized. Ties are judged on posterior (normalized) utilities, i.e. on the
    unnormalized sums with tolerance ``tie_tol * P(a)`` (``tie_tol >= 0``), widened by
    ``precision * precision_unit(regions)`` for a scheme known only to a relative ``precision`` (an env's float32
    action: ``stratgym.games.ties.precision_slack``; 0 for an exact scheme). ``check=False`` skips validating
    ``scheme`` (for callers whose schemes are on the simplex by construction, e.g. from ``box_to_simplex``).
    """
    check_instance(regions, Regions, "regions")
    tie_tol = as_nonnegative_float(tie_tol, "tie_tol")
    precision = as_nonnegative_float(precision, "precision")
    if check:
        scheme = check_scheme(scheme, regions.n_regions, regions.n_actions)
    weighted = weighted_payoffs(regions)
    sums, responses, principal_value, agent_value, bic_slack = best_responses(
        weighted, scheme, tie_tol, precision * precision_unit(regions))
    A = regions.n_actions
    probabilities = sums[:, 2 * A].copy()
    posterior = sums[:, :A] / np.where(probabilities > 0, probabilities, 1.0)[:, None]
    return SchemeEvaluation(responses=np.array(responses), recommendation_probabilities=probabilities,
                            posterior_agent_values=posterior, principal_value=principal_value,
                            agent_value=agent_value, bic_slack=bic_slack)


def weighted_payoffs(regions: Regions) -> np.ndarray:
    """``masses[s] * [u_A(s, .), u_P(s, .), 1]``, shape ``(R, 2A + 1)``: what :func:`evaluate_scheme` needs of the
    regions, so that one product with a scheme gives every recommendation's joint sums (envs compute it once)."""
    ones = np.ones((regions.n_regions, 1))
    stacked = np.concatenate([regions.agent_payoffs, regions.principal_payoffs, ones], axis=1)
    return regions.masses[:, None] * stacked


def precision_unit(regions: Regions) -> float:
    """``sum_s masses[s] * (max_b u_A(s, b) - min_b u_A(s, b))`` (ex-ante utility units): what a scheme's rows moving by
    at most 1 in L1 norm can change any recommendation's obedience slack by, the unit of a precision widening of
    the tie zone (:mod:`stratgym.games.ties`)."""
    return float(regions.masses @ np.ptp(regions.agent_payoffs, axis=1))


def best_responses(weighted: np.ndarray, scheme: np.ndarray, tie_tol: float, widening: float = 0.0) -> tuple:
    """The core of :func:`evaluate_scheme` for a checked scheme ``(R, A)`` and :func:`weighted_payoffs`:
    ``(sums, responses, principal_value, agent_value, bic_slack)``. ``widening`` (ex-ante utility units) is added
    to every recommendation's tie tolerance ``tie_tol * P(a)``.

    ``sums`` ``(A, 2A + 1)``: per recommendation ``a``, ``E[u_A(b); a]`` and ``E[u_P(b); a]`` for every ``b``,
    then ``P(a)``, all from one product; ``responses`` is a list. The ``A`` decisions on those sums are made
    in plain Python (:func:`agent_choice`'s rule), which on ``A x A`` sums is several times faster than numpy.
    """
    A = scheme.shape[1]
    A2 = 2 * A
    sums = scheme.T.dot(weighted)
    responses = []
    principal_value = agent_value = 0.0
    bic_slack, recommended = np.inf, False
    for a, row in enumerate(sums.tolist()):
        agent = row[:A]
        probability = row[A2]
        tolerance = tie_tol * probability + widening
        ordered = sorted(agent)
        best = ordered[-1]
        runner_up = ordered[-2] if A > 1 else -np.inf
        own = agent[a]
        threshold = best - tolerance  # agent_choice's rule: obey if a is among the best, else the principal's favourite
        if own >= threshold:
            response = a
        elif runner_up < threshold:  # the maximum alone is within the tolerance (the usual disobedience)
            response = agent.index(best)
        else:
            response = _favourite_of_the_best(agent, row[A:A2], threshold, tolerance)
        responses.append(response)
        principal_value += row[A + response]
        agent_value += agent[response]
        if probability > 0:
            recommended = True
            # The best other action: the maximum, unless it is a's own value; then the runner-up.
            other = best if own < best else runner_up
            # Posterior values are these sums over P(a): dividing keeps their order.
            slack = own / probability - other / probability
            if slack < bic_slack:
                bic_slack = slack
    if not recommended:
        raise ValueError("regions must have a region of positive mass: no recommendation has positive probability")
    return sums, responses, principal_value, agent_value, bic_slack


def full_revelation_scheme(regions: Regions, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The scheme ``(R, A)`` recommending the agent's best response in each region (ties to the principal)."""
    choice = agent_choice(regions.agent_payoffs, regions.principal_payoffs, tie_tol=tie_tol)
    return np.eye(regions.n_actions)[choice]


def no_information_scheme(regions: Regions, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The scheme ``(R, A)`` recommending, everywhere, the agent's best response to the prior (ties to the principal)."""
    total = regions.masses.sum()
    choice = agent_choice(regions.masses @ regions.agent_payoffs / total,
                          regions.masses @ regions.principal_payoffs / total, tie_tol=tie_tol)
    return np.tile(np.eye(regions.n_actions)[choice], (regions.n_regions, 1))
