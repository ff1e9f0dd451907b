"""The linear agent's choice with ties to the principal (strong Stackelberg): the favoured option of marginal
values, and the per-round scale ties are measured in."""

from __future__ import annotations

import numpy as np

from stratgym.games.stateful.dynamics import discount_factors
from stratgym.games.stateful.marginal import carry_forward, per_round_weights
from stratgym.games.behaviour import Rational
from stratgym.games.stateful.model import StatefulGame, derived, stateful_agent
from stratgym.games.ties import TIE_TOL

# ---------------------------------------------------------------------------------------------
# Agent responses
# ---------------------------------------------------------------------------------------------

def favoured_option(game: StatefulGame, values: np.ndarray, scale, tie_tol: float = TIE_TOL) -> np.ndarray:
    """Best vertex of the budget set for linear marginal ``values`` ``(..., d)``, ties to the principal.

    Options are "all budget on type j" (worth ``B * values[j]``) and "no effort" (worth 0). Among options
    within ``tie_tol * max(scale, best)`` of the best, the principal's favourite (largest ``lambda_j``,
    0 for no effort) wins; then the lowest effort index, with no effort last. ``scale`` (a number, or an
    array broadcasting against ``values[..., 0]``) is the unit of the tie tolerance: the round's
    :func:`round_scales` entry. Returns efforts ``(..., d)``: :func:`favoured_choice` as budget vertices.
    """
    return derived(game, budget_vertices).take(favoured_choice(game, values, scale, tie_tol), axis=0)


def favoured_choice(game: StatefulGame, values: np.ndarray, scale, tie_tol: float = TIE_TOL) -> np.ndarray:
    """:func:`favoured_option` as indices ``(...)``: the effort type that gets the budget, ``-1`` for no effort.

    One vector is decided in plain Python (:func:`favoured_choices`, the envs' scalar hot path); a batch by numpy,
    one pass per effort type over the whole batch from the principal's favourite down (reductions over a short
    last axis cost numpy far more than that). Both are the same rule, tested equal bit for bit.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        listed = values.tolist()
        total = sum(listed)  # NaN if an entry is (or both infinities are): then nothing is tied, as in the batched rule
        return favoured_choices(game, [listed], tie_tol, [float(scale)])[0] if total == total else -1
    order = derived(game, _preference_order)[1]
    threshold = tie_threshold(values, scale, tie_tol)
    # Results keep the layout of values[..., j] (a caller may pass a transposed view whose columns are contiguous).
    choice = np.full_like(threshold, -1, dtype=np.int64)
    for j in reversed(order):  # the principal's favourite last, so the first tied type in her order wins
        np.copyto(choice, j, where=values[..., j] >= threshold)
    favour = derived(game, _favour_with_nothing)
    if favour.min() < 0.0:  # "No effort" (principal value 0, ranked last) wins when it is tied and strictly preferred.
        choice[(0.0 >= threshold) & (favour.take(choice) < 0.0)] = -1
    return choice


def tie_threshold(values: np.ndarray, scale, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The least value an option may have and still be tied with the best one, for marginal ``values`` ``(..., d)``
    and the tie unit ``scale`` (broadcasting against ``values[..., 0]``): ``best - tie_tol * max(scale, best)``, with
    ``best`` the largest value or 0 ("no effort"), shape ``(...)``. NaN (nothing tied) if a value is NaN.

    The agent's only tie test: :func:`favoured_choice` takes its pick among the options at or above it, and the
    solvers' certificates (:func:`tied_options`) accept an option only there."""
    best = values[..., 0]
    for j in range(1, values.shape[-1]):
        best = np.maximum(best, values[..., j])  # NaN propagates: then nothing is tied
    best = np.maximum(best, 0.0)  # "no effort" is worth 0
    return best - tie_tol * np.maximum(scale, best)


def tied_options(values: np.ndarray, scale, tie_tol: float = TIE_TOL) -> np.ndarray:
    """Which options are in the agent's tie zone (at or above :func:`tie_threshold`), for marginal ``values``
    ``(..., d)``: bools ``(..., d + 1)``, the effort types then no effort (worth 0). The agent's pick is the
    principal's favourite among them."""
    values = np.asarray(values, dtype=np.float64)
    threshold = tie_threshold(values, scale, tie_tol)[..., None]
    return np.concatenate([values >= threshold, 0.0 >= threshold], axis=-1)


def favoured_choices(game: StatefulGame, rows: list[list[float]], tie_tol: float, scales: list[float]) -> list[int]:
    """:func:`favoured_option`'s choice for each row of values (lists without NaN), each with its tie ``scale``, in
    plain Python: the effort index that gets the budget, or -1 for no effort. Envs and the linear best response call
    it every step, where numpy's per-call overhead on length-``d`` rows dominated, so :func:`tie_threshold` is
    written out here (tested equal to the batched rule, bit for bit)."""
    favour, order = derived(game, _preference_order)
    choices = []
    for listed, scale in zip(rows, scales):
        best = max(listed)
        best = best if best > 0.0 else 0.0  # "no effort" is worth 0
        threshold = best - tie_tol * (best if best > scale else scale)
        for j in order:  # the first tied effort type in the principal's order
            if listed[j] >= threshold:
                # "No effort" (principal value 0, ranked last) wins when it is tied and strictly preferred.
                choices.append(-1 if 0.0 >= threshold and favour[j] < 0.0 else j)
                break
        else:
            choices.append(-1)
    return choices


def largest_marginal_values(game: StatefulGame, model="rational") -> np.ndarray:
    """The largest marginal value that any assessment policy can give an effort type in each round, shape ``(T,)``,
    under ``model`` (of the linearized game for concave ``g``).

    ``rational``: ``max_j sum_t gamma^(t-1) K_j(tau, t) max_i W_ij`` with ``K`` the carry-over of
    :func:`marginal_values` (put all weight on the feature type ``j`` feeds most, every round); ``myopic`` /
    ``forecasting`` (any ``Lookahead(k)``): ``max_j h_tau_j max_i W_ij`` with ``h`` from :func:`per_round_weights`.
    """
    agent = stateful_agent(model)
    column_max = game.conversion_matrix.max(axis=0)
    if isinstance(agent, Rational):
        return carry_forward(game, discount_factors(game)[:, None] * column_max).max(axis=1)
    return (per_round_weights(game, agent) * column_max).max(axis=1)


def round_scales(game: StatefulGame, model="rational") -> np.ndarray:
    """The unit of the agent's ties in each round, shape ``(T,)``: :func:`largest_marginal_values`, or 1 in a round
    where no rule gives any effort a value. Cached on the game.

    Why: marginal values carry ``gamma^(tau-1)`` and the scale of ``W``, so an absolute tolerance would turn the
    strict preferences of late discounted rounds, or of a game with a small ``W``, into ties. Ties are relative to
    this scale instead, which depends on the game only, so the exact solvers share it: they normalize each
    round's rows by it.
    """
    return response_table(game, model)[1]


def response_table(game: StatefulGame, model) -> tuple:
    """``(per-round weights (T, d) or None, round_scales (T,), the same scales as a list)`` of ``model``, cached on
    the game under the model's name (the linear responses read it every step; a name string is the fast key)."""
    tables = derived(game, response_tables)
    table = tables.get(model) if isinstance(model, str) else None
    if table is None:
        agent = stateful_agent(model)
        table = tables.get(agent.name)
        if table is None:
            weights = None if isinstance(agent, Rational) else per_round_weights(game, agent)
            largest = largest_marginal_values(game, agent)
            scales = np.where(largest > 0.0, largest, 1.0)
            for array in (weights, scales):
                if array is not None:
                    array.setflags(write=False)
            table = tables[agent.name] = (weights, scales, scales.tolist())
    return table


def response_tables(game: StatefulGame) -> dict[str, tuple]:
    """The cache of :func:`response_table`, model name -> its tables (cache it with :func:`derived`)."""
    return {}


def _preference_order(game: StatefulGame) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """``lambda`` as a tuple, and the effort types from the principal's favourite down (ties: lowest index first)."""
    favour = tuple(game.effort_value.tolist())
    return favour, tuple(sorted(range(game.n_efforts), key=lambda j: (-favour[j], j)))


def _favour_with_nothing(game: StatefulGame) -> np.ndarray:
    """``lambda`` followed by 0 (no effort), so that index ``-1`` of a choice reads the value of no effort."""
    favour = np.append(game.effort_value, 0.0)
    favour.setflags(write=False)
    return favour


def budget_vertices(game: StatefulGame) -> np.ndarray:
    """``(d + 1, d)``: the effort "all budget on type j" in row ``j``, then no effort, so row ``-1`` is no effort
    and ``take`` turns :func:`favoured_choices` into efforts (cache it with :func:`derived`)."""
    vertices = np.vstack([np.eye(game.n_efforts) * game.budget, np.zeros(game.n_efforts)])
    vertices.setflags(write=False)
    return vertices
