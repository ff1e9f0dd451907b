"""``stratgym/StatefulAgent-v0``: the agent spends its effort round by round against a principal's plan; its scalar
env and native vector env, both on :mod:`stratgym.envs.stateful.core`."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from stratgym.envs.spaces import simplex_action, simplex_box
from stratgym.envs.stateful.core import (AgentObservations, AgentState, PrincipalPlan, StatefulRoundEnv, agent_start,
                                         agent_step, as_principal, checked_plan, draw_plans)
from stratgym.envs.vector import RoundVectorEnv, count, rows_of, with_rows
from stratgym.games.stateful import StatefulGame


class StatefulAgentEnv(StatefulRoundEnv):
    """The agent spends its effort budget round by round against a principal's assessment plan.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/StatefulAgent-v0", game=None, principal="random")`` |
    | Actions | Box ``[-1, 1]^(d + 1)`` onto the simplex; first ``d`` entries × ``B``: the effort ``e_t`` |
    | Observations | Box ``(1 + 2d + T n,)``: round, state, marginal values ``c_t``, remaining rules |
    | Players | agent (learns); principal = a fixed plan, a fresh random plan, or a callable |
    | Reference solver | ``best_response(game, plan, "rational")`` (``stratgym.games``; exact for linear ``g``) |
    | Known optimum | ``U_A`` of the rational best response to the plan faced; for linear ``g`` put the budget on ``argmax_j c_{t,j}`` |

    ## Description

    Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021), from the decision
    subject's side. The principal's plan ``theta_1..theta_T`` is fixed at reset and fully visible (the
    Stackelberg agent knows the committed policy); each step the agent picks ``e_t`` in ``E_B``, is
    scored ``y_t = theta_t . g(W (s_t + e_t))`` and its state moves to ``s_{t+1} = p * s_t + omega * e_t``.
    The principal is given to the constructor: a fixed plan ``(T, n)``, ``"random"`` (a fresh plan each
    episode, every row Dirichlet(1), i.e. uniform on the simplex, drawn from ``np_random``), or a
    callable ``plan(rng) -> (T, n)`` called at each reset with ``np_random`` (e.g. a trained principal).

    ## Action Space

    ``Box(-1, 1, (d + 1,), float32)``. ``box_to_simplex`` maps it to ``x`` on the simplex of size
    ``d + 1`` (``w = (a + 1) / 2``, ``x = w / sum(w)``); the effort is ``e_t = B x[:d]`` and ``x[d]`` is the
    share of the budget left unused. Every effort in ``E_B`` is reachable, "all on type j"
    (``a = 2 e_j - 1``) and "no effort" included.

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 | rounds played ``t / T`` | 0 | 1 |
    | ``1 .. d`` | state ``s_{t,j} / S_j`` (``S_j = max_t state_bounds(game)[t, j]``, 1 if that is 0) | 0 | 1 |
    | ``d+1 .. 2d`` | marginal values ``c_t(theta) / C`` (``C = marginal_value_bound(game)``, one scale for all ``j``) | 0 | 1 |
    | ``2d+1 ..`` | the plan ``theta`` ``(T, n)`` row-major, rows already played set to 0 | 0 | 1 |

    ``c_t`` is the linear-``g`` marginal value of effort this round (``marginal_values``):
    ``c_t = gamma^(t-1) W^T theta_t + sum_{u>t} gamma^(u-1) (omega * p^(u-1-t)) * W^T theta_u``. For
    linear ``g`` ``U_A`` is linear in the effort policy and separable across rounds given the plan, so
    the optimal effort at round ``t`` is ``B`` on ``argmax_j c_{t,j}`` (nothing if the maximum is
    ``<= 0``) whatever the state: ``c_t`` alone is sufficient, and dividing all its entries by one scale
    keeps the argmax. For concave ``g`` the optimal continuation depends on the state and the remaining
    rules, both observed, so the observation is Markov for every game. After the last round ``c`` and
    the plan entries are all 0. :func:`agent_observation` builds the same observation outside the env
    (to query a trained agent), with the same code.

    ## Rewards

    The score ``y_t = theta_t . o_t``. With the RL discount set to the game's ``gamma`` the return
    ``sum_t gamma^(t-1) y_t`` is exactly the agent's utility ``U_A``.

    ## Starting State

    The game's initial state ``s_1``; the plan is the fixed one, a Dirichlet(1) draw per round
    (``"random"``), or ``principal(np_random)``.

    ## Episode End

    Termination after the ``T``-th round. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> env = gym.make("stratgym/StatefulAgent-v0", principal=np.full((5, 3), 1 / 3))
    >>> obs, info = env.reset(seed=0)
    >>> study = np.array([-1, 1, -1, -1], dtype=np.float32)  # all budget on effort type 1
    >>> obs, reward, terminated, truncated, info = env.step(study)
    >>> round(reward, 6), info["effort"]
    (0.15, array([0., 1., 0.]))

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``StatefulGame`` or ``None`` | ``None`` (``classroom_project()``) | the game instance |
    | ``principal`` | ``(T, n)`` array, ``"random"`` or ``callable(rng) -> (T, n)`` | ``"random"`` | the plan faced |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    Plans must have rows on the simplex (tolerance 1e-6; rows are then clipped at 0 and renormalized).
    ``info`` of a reset: ``theta`` ``(T, n)``; of a step: ``rule`` ``theta_t`` ``(n,)``, ``state`` ``s_t``
    ``(d,)``, ``effort`` ``e_t`` ``(d,)``, ``features`` ``o_t`` ``(n,)``, ``score`` ``y_t``. Pickling the env
    pickles ``principal`` too, so a callable principal must be picklable for that.

    ## Vectorized environment

    :class:`StatefulAgentVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.stateful:StatefulAgentVectorEnv``, autoreset ``NEXT_STEP`` or ``SAME_STEP``).

    ## Version History

    * v0: Initial version.
    """


    def __init__(self, game: StatefulGame | None = None, principal: np.ndarray | str | PrincipalPlan = "random",
                 render_mode: str | None = None):
        super().__init__(game, render_mode)
        game = self.game
        T, n, d = game.horizon, game.n_features, game.n_efforts
        self.principal = as_principal(game, principal)
        self.action_space = simplex_box(d + 1)
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(1 + 2 * d + T * n,), dtype=np.float32)
        self.observer = AgentObservations(game)
        self._episode = self._start(np.zeros((1, T, n)))

    def _start(self, plans: np.ndarray) -> AgentState:
        """One new episode facing ``plans`` ``(1, T, n)``, and the observation parts of all its rounds."""
        values = self.observer.values(plans)
        self._parts = self.observer.round_parts(plans, values)[0]
        return AgentState(0, self.game.initial_state.copy(), plans[0], values[0])

    def observation(self, plan, state, round_index: int) -> np.ndarray:
        """The observation ``(1 + 2d + T n,)`` this env shows at 0-based ``round_index`` (``0..T``) in
        ``state`` ``(d,)`` facing ``plan`` ``(T, n)`` (rows renormalized like a fixed ``principal``): how a
        trained agent is queried outside the env; :func:`~stratgym.envs.stateful.agent_observation` without the
        renormalization."""
        return self.observer.at(checked_plan(self.game, plan, "plan"), state, round_index)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._episode = self._start(draw_plans(self.game, self.principal, self.np_random, 1))
        return self._new_episode(self.observer.observe(self._parts[0], self._episode.states),
                                 {"theta": self._episode.plans.copy()})

    def step(self, action):
        t = self._begin_step()
        game = self.game
        effort = simplex_action(self.action_space, action)[:-1] * game.budget
        self._episode, reward, info = agent_step(game, self._episode, effort)
        info["score"] = float(reward)
        self._round = t + 1
        self._last_info = info
        obs = self.observer.observe(self._parts[self._round], self._episode.states)
        return obs, info["score"], self._round == game.horizon, False, info


class StatefulAgentVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`StatefulAgentEnv` episodes stepped together (native vector env).

    Same game, principal argument, spaces (batched), rewards and observations as
    :class:`StatefulAgentEnv`, on the same core (:func:`~stratgym.envs.stateful.core.agent_step`); autoreset
    ``NEXT_STEP`` (default) or ``SAME_STEP`` (see :mod:`stratgym.envs.vector`). Each new episode draws its own plan
    (``"random"``: Dirichlet(1) rows; a callable is called once per new episode) from this env's ``np_random``, in
    sub-env order; the reset info has each new episode's ``theta``. ``info``: the scalar env's keys batched, ``rule`` ``(num_envs, n)``, ``state``
    (before the round) ``(num_envs, d)``, ``effort`` ``(num_envs, d)``, ``features`` ``(num_envs, n)``, ``score``
    ``(num_envs,)``, each with its mask ``_<key>`` (False for sub-envs that were reset).

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.stateful import StatefulAgentVectorEnv
    >>> envs = StatefulAgentVectorEnv(num_envs=2, principal=np.full((5, 3), 1 / 3))
    >>> obs, info = envs.reset(seed=0)
    >>> obs.shape
    (2, 22)

    ```
    """


    def __init__(self, num_envs: int = 1, game: StatefulGame | None = None,
                 principal: np.ndarray | str | PrincipalPlan = "random", autoreset_mode=AutoresetMode.NEXT_STEP):
        super().__init__(StatefulAgentEnv(game, principal), num_envs, autoreset_mode)
        self.game = self.single.game
        T, n = self.game.horizon, self.game.n_features
        self._episodes = agent_start(self.game, self.single.observer, np.zeros((self.num_envs, T, n)))

    def _restart(self, rows) -> dict:
        plans = draw_plans(self.game, self.single.principal, self.np_random, count(rows, self.num_envs))
        self._episodes = with_rows(self._episodes, rows, agent_start(self.game, self.single.observer, plans))
        return {"theta": plans}

    def _play(self, rows, mapped: np.ndarray, actions):
        game = self.game
        after, rewards, info = agent_step(game, rows_of(self._episodes, rows), mapped[rows, :-1] * game.budget)
        self._episodes = with_rows(self._episodes, rows, after)
        return rewards, after.rounds == game.horizon, info

    def _observations(self) -> np.ndarray:
        return self.single.observer.of(self._episodes)
