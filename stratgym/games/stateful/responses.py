"""Agent responses to an assessment policy: :func:`best_response` of the game's own agents (``Rational()`` and
``Lookahead(k)`` of :mod:`stratgym.games.behaviour`, or their names), and the per-round responses of the lookahead
agents (myopic, forecasting, any ``k``)."""

from __future__ import annotations

import numpy as np

from stratgym.games.linalg import matmul_rows
from stratgym.games.stateful.concave import concave_best_response
from stratgym.games.stateful.dynamics import next_state
from stratgym.games.stateful.marginal import marginal_value_operator
from stratgym.games.behaviour import Lookahead, Rational
from stratgym.games.stateful.model import (GAP_TOL, StatefulGame, derived, per_round_agent, repeated_rows, row_tiles,
                                          stateful_agent)
from stratgym.games.stateful.policies import (Response, check_assessment_policy, check_state, check_tolerances,
                                              on_simplex_rows, with_trailing_shape)
from stratgym.games.stateful.tiebreak import budget_vertices, favoured_choices, favoured_option, response_table
from stratgym.games.ties import TIE_TOL

# ---------------------------------------------------------------------------------------------
# Agent responses
# ---------------------------------------------------------------------------------------------

def best_response(game: StatefulGame, theta, model="rational", tie_tol: float = TIE_TOL,
                  gap_tol: float = GAP_TOL, initial_state=None) -> Response:
    """The agent's response to assessment policy ``theta`` ``(T, n)`` under a response ``model``.

    * ``rational``: full-horizon best response. Linear ``g``: per round, the budget on the principal's
      favourite argmax of ``c_tau(theta)`` (``favoured_option``; values within ``tie_tol`` times the round's
      :func:`round_scales` entry are ties). Concave ``g``: the concave program solved to duality gap
      ``gap_tol`` (SLSQP, then Frank–Wolfe until its gap certificate is small enough); among the efforts as
      good for the agent as that solution, the principal's favourite (:mod:`stratgym.games.stateful.concave`).
    * ``myopic``: each round maximizes that round's score only.
    * ``forecasting``: each round re-plans the rest of the horizon as if the current rule stayed in force,
      and plays the first round of that plan.
    * ``Lookahead(k)`` (:mod:`stratgym.games.behaviour`; ``Rational()`` is ``rational``, ``Lookahead(1)`` ``myopic``
      and ``Lookahead(None)`` ``forecasting``): as ``forecasting``, planning ``min(k, T - t)`` rounds in round ``t``.

    ``initial_state`` ``(d,)`` overrides ``s_1``. ``ValueError`` for invalid arguments.
    """
    theta = check_assessment_policy(game, theta, batch=False)
    agent = stateful_agent(model)
    tie_tol, gap_tol = check_tolerances(tie_tol, gap_tol)
    state = game.initial_state if initial_state is None else check_state(game, initial_state, "initial_state",
                                                                        batch=False)
    if isinstance(agent, Rational):
        if game.is_linear:
            return Response(linear_rational_effort(game, theta, tie_tol))
        return concave_best_response(game, theta, state, gap_tol)
    efforts, gap = [], 0.0
    for t in range(game.horizon):
        response = _respond_in_round(game, agent, theta[t], state, t, tie_tol, gap_tol)
        efforts.append(response.effort[0])
        gap += response.duality_gap
        state = next_state(game, state, efforts[-1])
    return Response(np.array(efforts), gap)


def linear_rational_effort(game: StatefulGame, theta: np.ndarray, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The rational agent's best response ``(T, d)`` to a ``theta`` ``(T, n)`` of a linear game, without argument checks
    (envs' hot path; :func:`best_response` is the checked entry): per round the budget on the favoured argmax of
    ``c_tau(theta)``, with ``c`` from the game's cached operator."""
    matrix, scales, vertices = derived(game, _rational_tables)
    values = matrix.dot(theta.ravel()).reshape(len(theta), -1)  # (T, d)
    return vertices.take(favoured_choices(game, values.tolist(), tie_tol, scales), axis=0)


def _rational_tables(game: StatefulGame) -> tuple[np.ndarray, list[float], np.ndarray]:
    """What :func:`linear_rational_effort` reads (cache it with :func:`derived`, one look-up per call): the
    :func:`marginal_value_operator` of linear ``g`` as a ``(T d, T n)`` matrix, the round scales as a list and the
    :func:`~stratgym.games.stateful.tiebreak.budget_vertices`."""
    T, n, d = game.horizon, game.n_features, game.n_efforts
    matrix = marginal_value_operator(game).reshape(T * d, T * n)
    matrix.setflags(write=False)
    return matrix, response_table(game, "rational")[2], derived(game, budget_vertices)


def respond_in_round(game: StatefulGame, model, rule, state, round_index: int,
                     tie_tol: float = TIE_TOL, gap_tol: float = GAP_TOL) -> Response:
    """One round of a ``myopic``, ``forecasting`` or ``Lookahead(k)`` agent facing ``rule`` ``(n,)`` in state
    ``state`` ``(d,)``.

    ``round_index`` is 0-based. The returned ``effort`` has shape ``(1, d)``: this round's effort. The
    agent's plan is a sub-game starting in ``state``; discounting from round ``round_index`` on is
    rescaled to start at 1, which leaves the argmax unchanged. Linear ``g``: :func:`per_round_response`.
    """
    agent = per_round_agent(model)
    if isinstance(round_index, (bool, np.bool_)) or not isinstance(round_index, (int, np.integer)) \
            or not 0 <= round_index < game.horizon:
        raise ValueError(f"round_index must be an integer in [0, {game.horizon - 1}], got {round_index!r}")
    rule = on_simplex_rows(with_trailing_shape(rule, (game.n_features,), "rule", "(..., n)", batch=False), "rule")
    state = check_state(game, state, batch=False)
    return _respond_in_round(game, agent, rule, state, int(round_index), *check_tolerances(tie_tol, gap_tol))


def _respond_in_round(game: StatefulGame, agent: Lookahead, rule: np.ndarray, state: np.ndarray, round_index: int,
                      tie_tol: float, gap_tol: float) -> Response:
    """:func:`respond_in_round` of checked arguments."""
    if game.is_linear:
        return Response(per_round_response(game, agent.name, rule, round_index, tie_tol)[None, :])
    horizon = agent.rounds(game, round_index)
    sub_game = game.replace(horizon=horizon, initial_state=state)
    plan = concave_best_response(sub_game, np.tile(rule, (horizon, 1)), sub_game.initial_state, gap_tol)
    return Response(plan.effort[:1], plan.duality_gap)


def per_round_response(game: StatefulGame, model, rule: np.ndarray, round_index, tie_tol: float = TIE_TOL):
    """The ``myopic`` / ``forecasting`` / ``Lookahead(k)`` agent's effort in a linear game, without argument checks
    (the envs' hot path, fastest with the model's name, e.g. ``"myopic"``; :func:`respond_in_round` is the checked
    entry): ``rule`` ``(n,)`` and a round index give ``(d,)``; a batch ``rule`` ``(k, n)`` with indices ``(k,)`` gives
    ``(k, d)``. The state does not matter with linear ``g``."""
    weights, scales, listed_scales = response_table(game, model)
    rule = np.asarray(rule, dtype=np.float64)
    if rule.ndim == 1:
        return favoured_option(game, rule.dot(game.conversion_matrix) * weights[round_index],
                               listed_scales[round_index], tie_tol)
    round_index = np.asarray(round_index)
    in_step = round_index.size and (round_index == round_index.flat[0]).all()  # a batch in step: one row of the tables
    if in_step:
        round_index = int(round_index.flat[0])
    row = weights[round_index]
    if in_step and rule.ndim == 2:
        # that row repeated over the batch's rows (repeated_rows), named by its bytes (not by an id, which a copied
        # game's cache would carry over to other arrays)
        row = repeated_rows(derived(game, row_tiles), ("weights", row.tobytes()), row, len(rule))
    return favoured_option(game, matmul_rows(rule, game.conversion_matrix) * row, scales[round_index], tie_tol)
