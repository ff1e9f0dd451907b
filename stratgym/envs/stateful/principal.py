"""``stratgym/StatefulPrincipal-v0``: the principal publishes one rule per round; its scalar env and native vector
env, both on :mod:`stratgym.envs.stateful.core`."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from stratgym.envs.spaces import simplex_action, simplex_box
from stratgym.envs.stateful.core import (StatefulRoundEnv, feature_bounds, principal_observation, principal_start,
                                         principal_step, reciprocal_scale)
from stratgym.envs.stateful.responses import ResponseModel, RoundResponses
from stratgym.envs.vector import RoundVectorEnv, count, rows_of, with_rows
from stratgym.games.behaviour import Behaviour, Lookahead, agent_argument
from stratgym.games.stateful import StatefulGame
from stratgym.games.ties import TIE_TOL, precision_slack


class StatefulPrincipalEnv(StatefulRoundEnv):
    """The principal publishes one rule per round to an agent that answers round by round.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/StatefulPrincipal-v0", game=None, agent=None)`` (``None``: ``Lookahead(1)``, myopic) |
    | Actions | Box ``[-1, 1]^n`` onto the simplex: this round's rule ``theta_t`` |
    | Observations | Box ``(1 + 2n,)``: round, last round's features, last rule |
    | Players | principal (learns); ``agent``: ``Lookahead(k)`` (``"myopic"``, ``"forecasting"``), ``Quantal(beta, k)``, ``Learned(model)`` or any :class:`ResponseModel` |
    | Reference solver | ``stratgym.baselines`` ``solve(game, agent=agent)`` (exact per-round optimum against ``Lookahead(k)``, linear ``g``) |
    | Known optimum | default ``classroom_project(5)``: ``U_P* = 5`` against myopic and forecasting (uniform rule: 0 and 3) |

    ## Description

    Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021), played one round per step.
    At round ``t`` the principal publishes ``theta_t``; the agent answers with an effort ``e_t`` given
    its state ``s_t``; the state evolves as ``s_{t+1} = p * s_t + omega * e_t``. The agent
    (:mod:`stratgym.games.behaviour`) is ``Lookahead(k)``: it best-responds to ``theta_t`` as if it stayed in force
    for ``k`` rounds (``Lookahead(1)`` = ``"myopic"`` maximizes this round's score, ``Lookahead(None)`` =
    ``"forecasting"`` re-plans until ``T``), ties broken in the principal's favour (widened by the action's
    precision, as in :class:`StatefulCommitmentEnv`); or ``Quantal(beta, k)``, ``Learned(model)`` (a trained
    ``StatefulAgent-v0`` model, :class:`~stratgym.envs.stateful.responses.LearnedResponse`), or any object with
    ``respond(game, rule, state, round_index, rng)``. The rational agent needs the whole policy in advance: see
    :class:`StatefulCommitmentEnv`.
    The response is applied exactly once per step.

    ## Action Space

    ``Box(-1, 1, (n,), float32)``, mapped by ``box_to_simplex`` (``w = (a + 1) / 2``,
    ``theta_t = w / sum(w)``, uniform if ``w = 0``) to the rule ``theta_t``; vertices are reachable.

    ## Observation Space

    What a principal can see: never the effort or the state.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 | rounds played ``t / T`` | 0 | 1 |
    | ``1 .. n`` | last round's features ``o_{t,i} / O_i`` (``O = feature_bounds(game)``; 0 before round 1) | 0 | 1 |
    | ``n+1 .. 2n`` | last rule ``theta_{t,i}`` (0 before round 1) | 0 | 1 |

    ## Rewards

    ``lambda . e_t``, the principal's value of this round's effort; the undiscounted return is ``U_P``.

    ## Starting State

    Deterministic: the game's initial state ``s_1`` (a custom response model may draw from ``np_random``).

    ## Episode End

    Termination after the ``T``-th round. No truncation.

    ## Arguments

    Round 1 of the default game under the uniform rule (the zero action): the forecasting agent, planning as if the
    rule stayed in force, spends its whole budget on studying, the one effort the principal values
    (``lambda = (0, 1, 0)``).

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> env = gym.make("stratgym/StatefulPrincipal-v0", agent="forecasting")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(np.zeros(3, dtype=np.float32))
    >>> reward, info["effort"]
    (1.0, array([0., 1., 0.]))

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``StatefulGame`` or ``None`` | ``None`` (``classroom_project()``) | the game instance |
    | ``agent`` | a behaviour (``Lookahead(k)``, ``Quantal(beta, k)``, ``Learned(model)``), ``"myopic"``, ``"forecasting"``, a :class:`ResponseModel` or ``None`` | ``None`` (``Lookahead(1)``) | the agent (``response_model=``: its deprecated name) |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` of a step: ``rule`` ``theta_t`` ``(n,)``, ``state`` ``s_t`` ``(d,)``, ``effort`` ``e_t``
    ``(d,)``, ``features`` ``o_t`` ``(n,)``, ``score`` ``y_t`` (for logging and scoring; not observed).

    ## Vectorized environment

    :class:`StatefulPrincipalVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.stateful:StatefulPrincipalVectorEnv``, autoreset ``NEXT_STEP`` or ``SAME_STEP``).

    ## Version History

    * v0: Initial version.
    """


    def __init__(self, game: StatefulGame | None = None, agent: Behaviour | ResponseModel | str | None = None,
                 render_mode: str | None = None, *, response_model: ResponseModel | str | None = None):
        super().__init__(game, render_mode)
        self.responses = RoundResponses(self.game, agent_argument(agent, Lookahead(1), response_model=response_model))
        #: The agent's behaviour (``Lookahead(1)`` by default, or the object given).
        self.agent = self.responses.agent
        n = self.game.n_features
        self.action_space = simplex_box(n)
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(1 + 2 * n,), dtype=np.float32)
        self.feature_scale = reciprocal_scale(feature_bounds(self.game))
        self._episode = principal_start(self.game)
        self._row_length = n  # of the action, for its precision slack (read every step)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._episode = principal_start(self.game)
        return self._new_episode(principal_observation(self.game, self.feature_scale, self._episode))

    def step(self, action):
        t = self._begin_step()
        game = self.game
        rule = simplex_action(self.action_space, action)
        effort = self.responses.respond(rule, self._episode.states, t, self.np_random,
                                        TIE_TOL + precision_slack(action, self._row_length))
        self._episode, reward, info = principal_step(game, self._episode, rule, effort)
        info["score"] = float(info["score"])
        self._round = t + 1
        self._last_info = info
        obs = principal_observation(game, self.feature_scale, self._episode)
        return obs, float(reward), self._round == game.horizon, False, info


class StatefulPrincipalVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`StatefulPrincipalEnv` episodes stepped together (native vector env).

    Same game, spaces (batched), rewards and observations as :class:`StatefulPrincipalEnv`, on the same core
    (:func:`~stratgym.envs.stateful.core.principal_step`); autoreset ``NEXT_STEP`` (default) or ``SAME_STEP``
    (see :mod:`stratgym.envs.vector`). The game's own models on a linear game answer all sub-envs
    in one batched call; concave games and custom :class:`ResponseModel` objects answer one sub-env at a
    time with this env's ``np_random``. ``info``: the scalar env's keys batched, ``rule`` ``(num_envs, n)``,
    ``state`` (before the round) ``(num_envs, d)``, ``effort`` ``(num_envs, d)``, ``features`` ``(num_envs, n)``,
    ``score`` ``(num_envs,)``, each with its mask ``_<key>`` (False for sub-envs that were reset).

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.stateful import StatefulPrincipalVectorEnv
    >>> envs = StatefulPrincipalVectorEnv(num_envs=3, agent="forecasting")
    >>> obs, info = envs.reset(seed=0)
    >>> obs, rewards, terminated, truncated, info = envs.step(np.zeros((3, 3), dtype=np.float32))
    >>> rewards
    array([1., 1., 1.])

    ```
    """


    def __init__(self, num_envs: int = 1, game: StatefulGame | None = None,
                 agent: Behaviour | ResponseModel | str | None = None, autoreset_mode=AutoresetMode.NEXT_STEP, *,
                 response_model: ResponseModel | str | None = None):
        super().__init__(StatefulPrincipalEnv(game, agent_argument(agent, None, response_model=response_model)),
                         num_envs, autoreset_mode)
        self.game = self.single.game
        self._episodes = principal_start(self.game, (self.num_envs,))

    def _restart(self, rows) -> dict:
        self._episodes = with_rows(self._episodes, rows, principal_start(self.game, (count(rows, self.num_envs),)))
        return {}

    def _play(self, rows, mapped: np.ndarray, actions):
        game = self.game
        episodes, rules = rows_of(self._episodes, rows), mapped[rows]
        efforts = self.single.responses.respond(rules, episodes.states, episodes.rounds, self.np_random,
                                                TIE_TOL + precision_slack(actions, game.n_features))
        after, rewards, info = principal_step(game, episodes, rules, efforts)
        self._episodes = with_rows(self._episodes, rows, after)
        return rewards, after.rounds == game.horizon, info

    def _observations(self) -> np.ndarray:
        return principal_observation(self.game, self.single.feature_scale, self._episodes)
