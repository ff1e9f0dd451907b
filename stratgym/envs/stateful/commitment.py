"""``stratgym/StatefulCommitment-v0``: the principal commits to a whole assessment policy in one step; its scalar
env and native vector env, both on :mod:`stratgym.envs.stateful.core`."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from stratgym.envs.spaces import simplex_action, simplex_box
from stratgym.envs.stateful.core import StatefulRoundEnv, describe_game
from stratgym.envs.stateful.responses import PolicyResponses, ResponseModel
from stratgym.envs.vector import RoundVectorEnv
from stratgym.games.behaviour import Behaviour, Rational, agent_argument
from stratgym.games.stateful import StatefulGame, rollout_arrays
from stratgym.games.ties import TIE_TOL, precision_slack


def commitment_step(game: StatefulGame, responses: PolicyResponses, thetas: np.ndarray, actions,
                    rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The one step of a commitment episode (``thetas`` ``(T, n)``, or ``(k, T, n)``, on the simplex, mapped from
    ``actions``, whose precision widens the agent's ties): ``(rewards U_P, info)``."""
    effort = responses.respond(thetas, TIE_TOL + precision_slack(actions, thetas.shape[-1]), rng)  # rows of n
    states, features, scores, agent_utility, principal_utility = rollout_arrays(game, thetas, effort,
                                                                                memo=responses.rollout_memo)
    return principal_utility, {"theta": thetas, "effort": effort, "states": states, "features": features,
                               "scores": scores, "agent_utility": agent_utility,
                               "principal_utility": principal_utility}


class StatefulCommitmentEnv(StatefulRoundEnv):
    """The principal commits to a whole assessment policy; a rational agent (or another model) responds.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/StatefulCommitment-v0", game=None, agent=None)`` (``None``: ``Rational()``) |
    | Actions | Box ``[-1, 1]^(T, n)``, row-wise onto the simplex: the policy ``theta`` |
    | Observations | Box ``(n d + 4 d + 2 + len(CONVERSIONS),)``: the game instance, normalized |
    | Players | principal (learns); ``agent``: ``Rational()`` (exact best response), ``Lookahead(k)``, ``Quantal(beta, k)``, ``Learned(model)`` or any :class:`ResponseModel` |
    | Reference solver | ``stratgym.baselines`` ``solve(game, agent=agent)`` (exact MILP / per-round optimum for linear ``g``) |
    | Known optimum | default ``classroom_project(5)``: ``U_P* = 5`` (uniform rule: 3); ``classroom(T)``: ``U_P* = T - 1`` (study in rounds ``1..T-1``) |

    ## Description

    Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021): a principal scores an
    agent with linear rules ``theta_t`` over ``T`` rounds; the agent's effort ``e_t`` changes both the
    observable features ``o_t = g(W (s_t + e_t))`` and, for retained effort types, an internal state
    ``s_{t+1} = p * s_t + omega * e_t``. The principal moves first (Stackelberg): it commits to
    ``theta_1..theta_T`` and the agent, knowing them, plays a full-horizon best response
    (``best_response(game, theta, "rational")``; concave ``g`` is solved to the duality gap ``GAP_TOL``). Ties
    (:mod:`stratgym.games.ties`): marginal values within ``TIE_TOL`` times the round's ``round_scales``, plus
    the error the precision of the action received can cause (``n * eps(action dtype)`` of that scale), are tied,
    and go to the principal, so the float32 encoding of the exact optimum earns it. The
    episode is this one decision, a contextual bandit; the same game is played every episode.

    Other agents (``agent=``, :mod:`stratgym.games.behaviour`) face the same committed policy: ``Lookahead(k)``
    (``"myopic"``, ``"forecasting"``: ``best_response(game, theta, agent)``), or ``Quantal(beta, k)``,
    ``Learned(model)`` or any :class:`ResponseModel`, which answer one round at a time along the state path
    (:func:`respond_to_policy`), drawing their randomness from ``self.np_random``.

    ## Action Space

    ``Box(-1, 1, (T, n), float32)``. Row ``t`` is mapped by ``box_to_simplex`` (``w = (a + 1) / 2``,
    ``theta_t = w / sum(w)``, uniform if ``w = 0``) to the rule ``theta_t``: every rule is reachable,
    vertices included (``a = 2 e_i - 1`` puts all weight on feature ``i``).

    ## Observation Space

    A constant float32 vector describing the game instance (so a policy can be conditioned on it):

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. nd-1`` | ``W_ij / max(W)``, row-major (0 if ``W = 0``) | 0 | 1 |
    | ``nd .. nd+d-1`` | retention ``omega_j`` | 0 | 1 |
    | next ``d`` | persistence ``p_j`` | 0 | 1 |
    | next ``d`` | ``lambda_j / max|lambda|`` (0 if ``lambda = 0``) | -1 | 1 |
    | next ``d`` | initial state in budget units ``s_1j / B`` | 0 | ``max(1, max_j s_1j / B)`` |
    | next | discount ``gamma`` | 0 | 1 |
    | next | conversion scale ``k / (1 + k)``, ``k = max(W) B`` (where concave ``g`` bends) | 0 | 1 |
    | last ``len(CONVERSIONS)`` | one-hot conversion ``g`` (order of ``CONVERSIONS``: linear, sqrt, log1p) | 0 | 1 |

    ## Rewards

    The principal's utility ``U_P = sum_t lambda . e_t`` of the agent's response.

    ## Starting State

    Deterministic: the game's initial state ``s_1``. ``reset`` draws nothing (a stochastic
    ``agent`` draws from ``self.np_random`` during the step).

    ## Episode End

    The whole policy is committed in one step, which terminates the episode; it is never truncated (the ``T``
    rounds are played inside the step).

    ## Arguments

    On a three-round classroom, uniform rules in every round (the zero action) make the rational agent study in
    rounds 1 and 2 (retained study raises every later score) and copy in the last: ``U_P = 2 = T - 1``, the optimum.

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> from stratgym.games.stateful import classroom
    >>> env = gym.make("stratgym/StatefulCommitment-v0", game=classroom(horizon=3))
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(np.zeros((3, 2), dtype=np.float32))
    >>> reward, terminated, info["effort"][:, 1]
    (2.0, True, array([1., 1., 0.]))

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``StatefulGame`` or ``None`` | ``None`` (``classroom_project()``) | the game instance |
    | ``agent`` | a behaviour (``Rational()``, ``Lookahead(k)``, ``Quantal(beta, k)``, ``Learned(model)``), ``"rational"``, ``"myopic"``, ``"forecasting"``, a :class:`ResponseModel` or ``None`` | ``None`` (``Rational()``) | the agent (``response_model=``: its deprecated name) |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` after the step: ``theta`` ``(T, n)``, ``effort`` ``(T, d)``, ``states`` ``(T + 1, d)``,
    ``features`` ``(T, n)``, ``scores`` ``(T,)``, ``agent_utility``, ``principal_utility``.

    ## Vectorized environment

    :class:`StatefulCommitmentVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.stateful:StatefulCommitmentVectorEnv``, autoreset ``NEXT_STEP`` or ``SAME_STEP``).

    ## Version History

    * v0: Initial version.
    """


    def __init__(self, game: StatefulGame | None = None, render_mode: str | None = None,
                 agent: Behaviour | ResponseModel | str | None = None, *,
                 response_model: ResponseModel | str | None = None):
        super().__init__(game, render_mode)
        self.responses = PolicyResponses(self.game, agent_argument(agent, Rational(), response_model=response_model))
        #: The agent's behaviour (``Rational()`` by default, or the object given).
        self.agent = self.responses.agent
        self._episode_length = 1
        game = self.game
        self.action_space = simplex_box(game.horizon, game.n_features)
        self.description, low, high = describe_game(game)
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return self._new_episode(self.description.copy())

    def step(self, action):
        self._begin_step()
        theta = simplex_action(self.action_space, action)  # checked, and on the simplex by construction
        reward, info = commitment_step(self.game, self.responses, theta, action, self.np_random)
        reward = float(reward)
        info["agent_utility"], info["principal_utility"] = float(info["agent_utility"]), reward
        self._round = 1
        self._last_info = info
        return self.description.copy(), reward, True, False, info


class StatefulCommitmentVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`StatefulCommitmentEnv` episodes stepped together (native vector env).

    Same game, response model, spaces (batched), rewards and observations as :class:`StatefulCommitmentEnv`, on
    the same core (:class:`~stratgym.envs.stateful.responses.PolicyResponses`, the game's rollout); autoreset
    ``NEXT_STEP`` (default: an episode is one step, so a sub-env that just played is reset by the next step) or
    ``SAME_STEP`` (every step plays), see :mod:`stratgym.envs.vector`. The game's own models on a linear game answer
    every sub-env with a few batched numpy calls, with the ties of the scalar env; concave games and custom
    :class:`ResponseModel` objects answer one sub-env at a time with this env's ``np_random``. ``info``: the scalar env's keys batched (``theta`` ``(num_envs, T, n)``, ``effort``
    ``(num_envs, T, d)``, ``states``, ``features``, ``scores``, ``agent_utility``, ``principal_utility``), each with
    its mask ``_<key>``.

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.stateful import StatefulCommitmentVectorEnv
    >>> from stratgym.games.stateful import classroom
    >>> envs = StatefulCommitmentVectorEnv(num_envs=2, game=classroom(horizon=3))
    >>> obs, info = envs.reset(seed=0)
    >>> obs, rewards, terminated, truncated, info = envs.step(np.zeros((2, 3, 2), dtype=np.float32))
    >>> rewards, terminated
    (array([2., 2.]), array([ True,  True]))

    ```
    """


    def __init__(self, num_envs: int = 1, game: StatefulGame | None = None,
                 agent: Behaviour | ResponseModel | str | None = None, autoreset_mode=AutoresetMode.NEXT_STEP, *,
                 response_model: ResponseModel | str | None = None):
        super().__init__(StatefulCommitmentEnv(game, agent=agent_argument(agent, None, response_model=response_model)),
                         num_envs, autoreset_mode)
        self.game = self.single.game
        self._observation = np.repeat(self.single.description[None], self.num_envs, axis=0)

    def _restart(self, rows) -> dict:
        return {}

    def _play(self, rows, mapped: np.ndarray, actions):
        rewards, info = commitment_step(self.game, self.single.responses, mapped[rows], actions, self.np_random)
        return rewards, np.ones(len(rewards), dtype=bool), info

    def _observations(self) -> np.ndarray:
        return self._observation.copy()
