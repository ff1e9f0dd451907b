"""The pure core of the persuasion envs (as in gymnax): the game and its regions, the draws an episode makes, and
what a committed scheme earns, for one env (a scheme ``(R, A)``, a number per draw) or a batch (``(k, R, A)``,
``(k,)``), shared by the scalar envs and their native vector versions.

Randomness is explicit: a draw takes the uniform numbers it inverts (``u`` in ``[0, 1)``), which the env draws
from its ``np_random``, one per draw and in the order the scalar env draws them. Batched arithmetic runs one pass
per action over the whole batch (reductions over a short last axis cost numpy far more than that); the scalar
scheme env decides in plain Python (:func:`~stratgym.games.persuasion.best_responses`), and
:func:`scheme_outcomes` is the same rule for a batch, tested equal to it.
"""

from __future__ import annotations

import bisect
import functools

import numpy as np
from scipy.special import softmax

from stratgym.envs.base import RoundEnv
from stratgym.games.credit import synthetic_credit
from stratgym.games.linalg import matmul_columns
from stratgym.games.persuasion import PersuasionGame, Regions, equivalence_regions
from stratgym.games.validation import as_nonnegative_float, as_positive_int


@functools.lru_cache(maxsize=1)
def default_setup() -> tuple[PersuasionGame, Regions]:
    """``synthetic_credit()`` and its regions, computed once (both are immutable)."""
    game = synthetic_credit()
    return game, equivalence_regions(game)


def as_setup(game, regions) -> tuple[PersuasionGame, Regions]:
    """``(game, regions)`` checked: ``None`` game means ``synthetic_credit()``, ``None`` regions are computed; regions
    must be the game's (``ValueError`` otherwise)."""
    if game is None and regions is None:
        return default_setup()
    game = default_setup()[0] if game is None else game
    if not isinstance(game, PersuasionGame):
        raise ValueError(f"game must be a PersuasionGame (or None for synthetic_credit()), got {type(game).__name__}")
    if regions is None:
        return game, equivalence_regions(game)
    if not isinstance(regions, Regions):
        raise ValueError(f"regions must be the game's Regions (equivalence_regions(game)) or None, "
                         f"got {type(regions).__name__}")
    regions.check_game(game)  # the recorded game, not only the payoff tables: masses depend on the prior too
    if not np.any(regions.masses > 0):
        raise ValueError("regions must have a region of positive mass")
    return game, regions


def draw_index(cumulative: list[float], u: float) -> int:
    """The index that inverse CDF sampling gives ``u`` in ``[0, 1)`` from ``cumulative`` probabilities (a list: one
    draw, no numpy call): the number of entries ``<= u``, at most the last index."""
    return min(bisect.bisect_right(cumulative, u), len(cumulative) - 1)


def draw_indices(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:func:`draw_index` for a batch ``u`` ``(k,)``: ``cumulative`` ``(m,)`` shared, or one row per draw ``(k, m)``."""
    if cumulative.ndim == 1:
        return np.minimum(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1)
    below = np.zeros(len(u), dtype=np.int64)
    for j in range(cumulative.shape[1] - 1):  # the last entry only matters through the clip
        below += cumulative[:, j] <= u
    return below


def cumulative_rows(rows: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis, added in order (``np.cumsum``'s bits, one pass per column)."""
    out = np.empty_like(rows)
    out[..., 0] = rows[..., 0]
    for j in range(1, rows.shape[-1]):
        out[..., j] = out[..., j - 1] + rows[..., j]
    return out


class PersuasionRoundEnv(RoundEnv):
    """What the three scalar envs share: the game, its regions, the region sampler, and :class:`RoundEnv`'s rendering
    and guards (one round unless a subclass says otherwise).

    Attributes: ``game``, ``regions``, ``tie_tol``, ``region_cdf`` (the cumulative normalized region masses, the law
    of a round's region, as a list).
    """

    def __init__(self, game: PersuasionGame | None, regions: Regions | None, render_mode: str | None,
                 tie_tol: float, episode_length: int | None = 1):
        super().__init__(render_mode, episode_length)
        self.tie_tol = as_nonnegative_float(tie_tol, "tie_tol")
        self.game, self.regions = as_setup(game, regions)
        masses = self.regions.masses / self.regions.masses.sum()
        self.region_cdf = np.cumsum(masses).tolist()  # bisect on a list: no numpy call per draw
        self._n_regions, self._n_actions = self.regions.n_regions, self.regions.n_actions

    def _draw(self, cumulative: list[float]) -> int:
        """An index drawn by inverse CDF from ``cumulative`` probabilities (one uniform draw of ``np_random``)."""
        return draw_index(cumulative, self.np_random.random())

    def _draw_region(self) -> int:
        """A region index with probability proportional to its mass."""
        return self._draw(self.region_cdf)

    def _render_panels(self) -> list[np.ndarray]:
        """``info``'s arrays, then its indices as one-hot rows (region, recommendation, action, best response), then
        a committed ``scheme`` ``(R, A)`` if the env has one: what an ``rgb_array`` frame draws."""
        sizes = {"region": self.regions.n_regions, "recommendation": self.regions.n_actions,
                 "action": self.regions.n_actions, "best_response": self.regions.n_actions}
        one_hot = [np.eye(size)[self._last_info[key]][None, :] for key, size in sizes.items() if key in self._last_info]
        scheme = getattr(self, "scheme", None)
        return super()._render_panels() + one_hot + ([scheme] if isinstance(scheme, np.ndarray) else [])


# ---------------------------------------------------------------------------------------------
# What a scheme earns: per-recommendation sums and the agent's answer to them
# ---------------------------------------------------------------------------------------------

#: Default BIC margin of ``PersuasionSchemeEnv(reward="penalized")``, in posterior utility units of ``u_A``.
BIC_MARGIN = 0.005


def conservative_penalty_weight(regions: Regions) -> float:
    """A penalty weight for ``reward="penalized"`` from the payoffs alone (no LP):
    ``2 * range(u_P) / min |u_A(a, s) - u_A(b, s)|`` over regions of positive mass and unequal payoffs (1 if
    either is 0).

    Why: the penalized reward's maximum is the (margin-tightened) LP optimum once the weight exceeds the LP's
    BIC multipliers (``max_a sum_b mu_ab``: the penalty takes one maximum over ``b`` per recommendation); a
    multiplier prices a unit of the agent's slack, which moves at most ``1 / min |u_A gap|`` of mass, worth at
    most ``range(u_P)`` each. That argument is a heuristic, not a bound: a mixture of regions whose gaps nearly
    cancel violates BIC by almost nothing, and its multiplier can be far larger (on
    ``random_persuasion_game(default_rng(2048), n_actions=3, prior="finite")`` this weight is 8 and the multiplier
    about 8,800, so the penalized maximum 0.18 is not the BIC optimum 0; tested). The exact threshold is the LP's
    own multiplier (:func:`stratgym.agents.random_suite.bic_multiplier`, which the random suite trains with). On
    ``synthetic_credit()`` this weight is 20 against multipliers of 2.5, and a weight near twice the multipliers (5)
    trains far better (``BENCHMARKS.md``).
    """
    positive = regions.masses > 0
    agent, principal = regions.agent_payoffs[positive], regions.principal_payoffs[positive]
    gaps = np.abs(agent[:, :, None] - agent[:, None, :])
    gaps = gaps[gaps > 0]
    spread = float(np.ptp(principal))
    return 2.0 * spread / float(gaps.min()) if gaps.size and spread > 0 else 1.0


def sum_in_order(terms: np.ndarray) -> np.ndarray:
    """Sums over the last axis, added in order from 0 (as a Python loop adds them)."""
    total = np.zeros(terms.shape[:-1])
    for j in range(terms.shape[-1]):
        total = total + terms[..., j]
    return total


def _row_max(values: np.ndarray) -> np.ndarray:
    """Maxima over the last axis, one pass per column."""
    best = values[..., 0]
    for j in range(1, values.shape[-1]):
        best = np.maximum(best, values[..., j])
    return best


def penalized_value(sums: np.ndarray, penalty_weight: float, bic_margin: float) -> tuple:
    """``(reward, violation)`` of ``reward="penalized"`` from the per-recommendation sums ``(..., A, 2A + 1)`` of
    :func:`~stratgym.games.persuasion.evaluate_scheme` (``E[u_A(b); a]`` for every ``b``, ``E[u_P(b); a]``
    for every ``b``, ``P(a)``; ``E[.; a]`` is the ex-ante expectation on "``a`` is recommended").

    ``reward = sum_a E[u_P(a); a] - penalty_weight * violation``: the principal's utility if every
    recommendation were obeyed, minus the weighted ``violation = sum_a max(0, max_{b != a} E[u_A(b) - u_A(a); a]
    + bic_margin * P(a))``. Never-recommended actions add nothing (their sums are 0). Floats for one scheme,
    ``(...)`` arrays for a batch.
    """
    n_actions = sums.shape[-1] // 2
    agent = sums[..., :n_actions]
    diagonal = np.arange(n_actions)
    obedient = sum_in_order(sums[..., diagonal, n_actions + diagonal])
    others = _row_max(np.where(np.eye(n_actions, dtype=bool), -np.inf, agent))
    violation = sum_in_order(np.maximum(others - agent[..., diagonal, diagonal] + bic_margin * sums[..., 2 * n_actions],
                                     0.0))
    reward = obedient - penalty_weight * violation
    return (float(reward), float(violation)) if sums.ndim == 2 else (reward, violation)


def quantal_choice(sums: np.ndarray, beta: float) -> tuple:
    """A logit agent's ``(choice probabilities (..., A, A), principal value, agent value)`` from the
    per-recommendation sums ``(..., A, 2A + 1)`` of :func:`~stratgym.games.persuasion.evaluate_scheme`
    (``E[u_A(b); a]``, ``E[u_P(b); a]``, ``P(a)``); values are floats for one scheme, ``(...)`` for a batch.

    Row ``a``: ``softmax(beta * U_a)`` with ``U_a(b) = E[u_A(b); a] / P(a)`` the posterior expected utilities
    (uniform for a never-recommended ``a``, which adds nothing to either value). Finite ``beta >= 0``.
    """
    n_actions = sums.shape[-1] // 2
    sums = np.ascontiguousarray(sums)  # numpy's sums below add in memory order: one order for a batch and one scheme
    probability = sums[..., 2 * n_actions]
    posterior = sums[..., :n_actions] / np.where(probability > 0, probability, 1.0)[..., None]
    with np.errstate(over="ignore"):  # shifted by the row maximum: a huge beta gives -inf (probability 0), never NaN
        choice = softmax(beta * (posterior - posterior.max(axis=-1, keepdims=True)), axis=-1)
    principal = (choice * sums[..., n_actions:2 * n_actions]).sum(axis=(-2, -1))
    agent = (choice * sums[..., :n_actions]).sum(axis=(-2, -1))
    return (choice, float(principal), float(agent)) if sums.ndim == 2 else (choice, principal, agent)


def scheme_outcomes(weighted: np.ndarray, schemes: np.ndarray, tie_tol: float, widening=0.0) -> tuple:
    """:func:`~stratgym.games.persuasion.best_responses` for a batch of schemes ``(k, R, A)`` on the simplex:
    ``(sums (k, A, 2A + 1), responses (k, A), principal_value (k,), agent_value (k,), bic_slack (k,))``, by the same
    rule (the agent obeys a recommendation among its best within ``tie_tol * P(a) + widening``, else takes the best
    action the principal values most, then the lowest index): :func:`scheme_columns`, then
    :func:`scheme_decisions`. ``sums`` and ``responses`` are views."""
    columns = scheme_columns(weighted, schemes)
    return (columns.transpose(2, 1, 0),) + scheme_decisions(columns, tie_tol, widening)


def scheme_columns(weighted: np.ndarray, schemes: np.ndarray) -> np.ndarray:
    """``(c, A, k)``: ``[j, a, i] = sum_s schemes[i, s, a] weighted[s, j]`` for schemes ``(k, R, A)`` and ``weighted``
    ``(R, c)`` (:func:`~stratgym.games.persuasion.weighted_payoffs`: ``E[u_A(b); a]``, ``E[u_P(b); a]``, ``P(a)``),
    one product for the batch, each sum ``j`` of every recommendation contiguous over the batch.

    The batch is laid out last: ``schemes`` already in that layout (a view of an ``(R, A, k)`` array, as
    :func:`batch_last_simplex` returns) is not copied."""
    k, R, A = schemes.shape
    batch_last = np.ascontiguousarray(schemes.transpose(1, 2, 0)).reshape(R, A * k)
    return matmul_columns(weighted.T, batch_last).reshape(weighted.shape[1], A, k)


def scheme_decisions(columns: np.ndarray, tie_tol: float, widening=0.0) -> tuple:
    """The agent's answers from :func:`scheme_columns` ``(c >= 2A + 1, A, k)`` (contiguous): ``(responses (k, A),
    principal_value (k,), agent_value (k,), bic_slack (k,))``, a few passes over the batch. ``widening``: a number,
    or one per scheme ``(k,)``."""
    A, k = columns.shape[1:]
    agent, principal, probability = columns[:A], columns[A:2 * A], columns[2 * A]
    actions = np.arange(A)
    tolerance = tie_tol * probability
    tolerance += widening
    threshold = np.maximum.reduce(agent, axis=0)  # a reduction over the leading axis: one pass per b
    threshold -= tolerance
    # The principal's favourite among the agent's best actions (within the tolerance), then the lowest index.
    value = np.where(agent >= threshold, principal, -np.inf)
    favourite = np.maximum.reduce(value, axis=0)
    favourite -= tolerance
    choice = _leading_true(value[:A - 1] < favourite)  # the last action qualifies when no earlier one does
    own = agent[actions, actions]  # (A, k): E[u_A(a); a]
    responses = np.where(own >= threshold, actions[:, None], choice)
    index = taken_index(responses)
    principal_value, agent_value = taken_sum(columns, index, A), taken_sum(columns, index, 0)
    # The best other action's value, max over b != a (whether or not a itself is the best); value is free again.
    np.copyto(value, agent)
    value[actions, actions] = -np.inf
    other = np.maximum.reduce(value, axis=0)
    positive = probability > 0
    safe = np.where(positive, probability, 1.0)
    slack = np.divide(own, safe)
    slack -= np.divide(other, safe, out=other)
    return responses.T, principal_value, agent_value, _row_min(np.where(positive, slack, np.inf).T)


def _leading_true(below: np.ndarray) -> np.ndarray:
    """``(...)``: how many leading rows of ``below`` ``(m, ...)`` are True at each entry (``m`` if all are), one pass
    per row (numpy's accumulate over a leading axis is several times slower), counted in bytes when ``m < 256`` (a
    bool added to an int64 count goes through a slow cast)."""
    count = np.zeros(below.shape[1:], dtype=np.uint8 if len(below) < 256 else np.int64)
    run = np.ones(below.shape[1:], dtype=bool)
    for row in below:
        run &= row
        count += run.view(np.uint8) if count.dtype == np.uint8 else run
    return count


def taken_index(responses: np.ndarray) -> np.ndarray:
    """``(A, k)`` the flat indices into contiguous columns ``(c, A, k)`` of ``[responses[a, i], a, i]``: the entries
    of row 0 of every recommendation's answer (row ``r``'s are ``r A k`` further on, see :func:`taken_sum`)."""
    A, k = responses.shape
    return responses * (A * k) + _batch_index(A, k)


def taken_sum(columns: np.ndarray, index: np.ndarray, row: int) -> np.ndarray:
    """``(k,)``: ``sum_a columns[row + responses[a, i], a, i]`` of contiguous ``columns`` ``(c, A, k)``, added in order
    of ``a`` (as a Python loop adds them), for the :func:`taken_index` ``index`` of ``responses``."""
    A, k = index.shape
    terms = columns.reshape(-1).take(index + row * (A * k) if row else index)
    if A == 1:
        return terms[0]
    total = terms[0] + terms[1]
    for term in terms[2:]:
        total += term
    return total


@functools.lru_cache(maxsize=8)
def _batch_index(n_actions: int, k: int) -> np.ndarray:
    """``(A, k)`` the flat indices ``a k + i`` of an ``(A, k)`` array (offsets of row ``a``, scheme ``i``)."""
    index = np.arange(n_actions * k).reshape(n_actions, k)
    index.setflags(write=False)
    return index


def batch_last_simplex(actions: np.ndarray) -> np.ndarray:
    """:func:`~stratgym.envs.spaces.box_to_simplex` of a batch of schemes ``(k, R, A)`` whose entries all lie in
    ``(-1, 1)`` (so every weight is positive), with ``simplex_action``'s bits (``w = a + 1`` in float64, row totals
    added in order, ``w / total``): a ``(k, R, A)`` view of an ``(R, A, k)`` array, the layout :func:`scheme_outcomes`
    multiplies without a copy."""
    k, R, A = actions.shape
    actions = np.ascontiguousarray(actions)
    # Transposed in two cache-friendly moves: whole rows of A entries (one opaque item each) to (R, k), then each
    # region's (k, A) block while converting to float64 (exact) and adding 1.
    rows = actions.view(np.dtype((np.void, A * actions.itemsize))).reshape(k, R).T.copy()
    weights = np.add(rows.view(actions.dtype).reshape(R, k, A).transpose(0, 2, 1), 1.0, dtype=np.float64, order="C")
    totals = weights[:, 0] + weights[:, 1] if A > 1 else weights[:, 0].copy()
    for j in range(2, A):
        totals += weights[:, j]
    np.divide(weights, totals[:, None, :], out=weights)
    return weights.transpose(2, 0, 1)


def _row_min(values: np.ndarray) -> np.ndarray:
    """Minima over the last axis, one pass per column."""
    low = values[..., 0]
    for j in range(1, values.shape[-1]):
        low = np.minimum(low, values[..., j])
    return low


def scheme_observation(regions: Regions) -> np.ndarray:
    """``PersuasionScheme-v0``'s (constant) observation ``(R,)`` float32: the region masses normalized to sum 1.
    Public so that a trained scheme model can be asked outside the env."""
    return (regions.masses / regions.masses.sum()).astype(np.float32)


def recommendation_observation(game: PersuasionGame, recommendation: int) -> np.ndarray:
    """``PersuasionAgent-v0``'s observation ``(A + m,)`` float32 on hearing ``recommendation``: its one-hot, then the
    agent's features ``x_0 / max(1, max |x_0|)``. Public so that a trained agent model can be asked outside the env."""
    n_actions = game.n_actions
    if as_positive_int(recommendation, "recommendation", minimum=0) >= n_actions:
        raise ValueError(f"recommendation must be an action in 0..{n_actions - 1}, got {recommendation!r}")
    features = game.features
    observation = np.zeros(n_actions + features.size, dtype=np.float32)
    observation[recommendation] = 1.0
    observation[n_actions:] = features / max(1.0, float(np.abs(features).max()))
    return observation
