"""The stateful principal–agent game (multi-round strategic regression), as plain numpy.

Model (see ``shared/docs/model-stateful.md``; Harris, Heidari, Wu, "Stateful Strategic Regression",
NeurIPS 2021). Rounds ``t = 1..T`` (0-based ``t = 0..T-1`` in arrays):

* effort ``e_t`` in ``E_B = {e >= 0, sum(e) <= B}`` (shape ``(d,)``);
* state ``s_{t+1} = p * s_t + omega * e_t`` (shape ``(d,)``), ``s_1`` given;
* observable features ``o_t = g(W (s_t + e_t))`` (shape ``(n,)``);
* score ``y_t = theta_t . o_t`` with ``theta_t`` on the probability simplex (monotone, normalized rules);
* agent utility ``U_A = sum_t gamma^(t-1) y_t``; principal utility ``U_P = sum_t lambda . e_t``.

Tie-breaking (strong Stackelberg): whenever the agent is indifferent between options, it takes the one
the principal values most (largest ``lambda_j``); remaining ties go to the lowest effort index, and
"no effort" counts as the last option. Marginal values within ``tie_tol`` (default ``TIE_TOL``) times the round's
scale (:func:`round_scales`) of the maximum are ties: the one meaning of a tie in :mod:`stratgym.games.ties`.

Agents: ``Rational()`` and ``Lookahead(k)`` (:mod:`stratgym.games.behaviour`), or their names ``"rational"``,
``"myopic"`` (``k = 1``), ``"forecasting"`` (``k = None``), wherever a ``model`` is taken.

Modules: ``model`` (:class:`StatefulGame`, its agents' names, conversion shapes), ``policies`` (checks of policies and
states, :class:`Response`), ``dynamics`` (transitions, observations, :func:`rollout`), ``marginal`` (marginal
values and per-round weights), ``tiebreak`` (the favoured option, round scales), ``concave`` (the concave best
response, :func:`frank_wolfe_gap`), ``responses`` (:func:`best_response`, per-round responses), ``instances``
(classroom, random games). Everything public is importable from ``stratgym.games.stateful``.
"""

from stratgym.games.stateful.concave import frank_wolfe_gap
from stratgym.games.stateful.dynamics import Trajectory, accumulated_effort, next_state, observe, rollout, rollout_arrays
from stratgym.games.stateful.instances import classroom, classroom_project, random_game
from stratgym.games.stateful.marginal import feature_slopes, marginal_value_operator, marginal_values, per_round_weights
from stratgym.games.stateful.model import (CONVERSIONS, GAP_TOL, RESPONSE_MODELS, StatefulGame, per_round_agent,
                                          stateful_agent)
from stratgym.games.stateful.policies import (Response, check_assessment_policy, check_effort_policy, check_state, clip_rows,
                                             uniform_rule)
from stratgym.games.stateful.responses import best_response, linear_rational_effort, per_round_response, respond_in_round
from stratgym.games.stateful.tiebreak import (favoured_choice, favoured_option, largest_marginal_values, round_scales,
                                              tie_threshold, tied_options)
from stratgym.games.ties import TIE_TOL

__all__ = ["CONVERSIONS", "GAP_TOL", "RESPONSE_MODELS", "Response", "StatefulGame", "TIE_TOL", "Trajectory",
           "accumulated_effort", "best_response", "check_assessment_policy", "check_effort_policy", "check_state",
           "classroom", "classroom_project", "clip_rows", "favoured_choice", "favoured_option", "feature_slopes",
           "frank_wolfe_gap", "largest_marginal_values", "linear_rational_effort", "marginal_value_operator",
           "marginal_values", "next_state", "observe", "per_round_agent", "per_round_response", "per_round_weights", "random_game",
           "respond_in_round", "rollout", "rollout_arrays", "round_scales", "stateful_agent", "tie_threshold", "tied_options",
           "uniform_rule"]
