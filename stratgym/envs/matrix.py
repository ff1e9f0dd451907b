"""Gymnasium environments of the Stackelberg matrix games (the model is :mod:`stratgym.games.matrix`).

| Environment | Who learns | One step is | Opponent |
|---|---|---|---|
| ``MatrixCommitmentEnv`` (``stratgym/MatrixCommitment-v0``) | leader (principal) | commit to a mixed strategy ``x`` | a follower of a drawn type: rational (strong Stackelberg) or a :class:`~stratgym.games.matrix.Follower` |
| ``MatrixFollowerEnv`` (``stratgym/MatrixFollower-v0``) | follower (agent) | pick a column against a committed ``x`` | a leader committed to ``x`` (optimal, uniform, or given) |

Both take any :class:`~stratgym.games.matrix.MatrixGame` (``gym.make(id, game=...)``; ``None`` means
:func:`~stratgym.games.matrix.security_game`, on which the uniform commitment earns under a third of the optimum),
reject NaN, wrongly shaped or out-of-space actions with ``ValueError``, raise :class:`gymnasium.error.ResetNeeded`
when stepped before ``reset`` or after the episode ended, and draw randomness only from ``self.np_random``. Episodes
are one step (contextual bandits).
"""

from __future__ import annotations

import bisect
from typing import Callable

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from stratgym.envs.base import RoundEnv
from stratgym.envs.spaces import discrete_action, simplex_action, simplex_box
from stratgym.envs.vector import RoundVectorEnv, SubEnvLoop, count
from stratgym.games.behaviour import (Bayesian, Learned, Learning, Lookahead, Quantal, Rational, agent_argument,
                                      as_behaviour)
from stratgym.games.validation import check_instance
from stratgym.games.matrix import (
    Follower,
    MatrixGame,
    QuantalFollower,
    check_strategy,
    column_values,
    follower_scales,
    security_game,
    strong_response,
)
from stratgym.games.ties import TIE_TOL, precision_slack


def _as_game(game) -> MatrixGame:
    return security_game() if game is None else check_instance(game, MatrixGame, "game")


def describe_game(game: MatrixGame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The game as a fixed-length float32 vector with its bounds ``(value, low, high)``: ``A / max|A|`` (``K m n``,
    row-major), each type's ``B^k / follower_scales(game)[k]`` (``K m n``), then the type prior (``K``)."""
    leader_scale = float(np.abs(game.leader_payoffs).max())
    leader = game.leader_payoffs / (leader_scale if leader_scale > 0 else 1.0)
    follower = game.follower_payoffs / follower_scales(game)[:, None, None]
    value = np.concatenate([leader.ravel(), follower.ravel(), game.type_prior]).astype(np.float32)
    payoffs = leader.size + follower.size
    low = np.concatenate([np.full(payoffs, -1.0), np.zeros(game.n_types)]).astype(np.float32)
    return value, low, np.ones_like(low)


class _MatrixEnv(RoundEnv):
    """What both envs share: the game, one-step episodes, the type draw and the one-hot panels of ``render``."""

    def __init__(self, game: MatrixGame | None, render_mode: str | None):
        super().__init__(render_mode, 1)
        self.game = _as_game(game)
        self._cumulative_prior = np.cumsum(self.game.type_prior).tolist()
        self._types = np.arange(self.game.n_types)

    def _draw(self, cumulative: list[float]) -> int:
        """An index drawn from the distribution whose cumulative sums are ``cumulative`` (one uniform of ``np_random``;
        plain Python, as the envs draw one per step)."""
        return min(bisect.bisect_right(cumulative, self.np_random.random() * cumulative[-1]), len(cumulative) - 1)

    def _render_panels(self) -> list[np.ndarray]:
        """``info``'s arrays, then its indices as one-hot rows (type, row, column)."""
        game = self.game
        sizes = {"type": game.n_types, "row": game.n_leader_actions, "column": game.n_follower_actions}
        one_hot = [np.eye(size)[self._last_info[key]][None, :] for key, size in sizes.items() if key in self._last_info]
        return super()._render_panels() + one_hot


#: Behaviours of the other games, which no matrix follower follows (``Quantal`` is the stateful and persuasion logit;
#: the matrix game's own is :class:`~stratgym.games.matrix.QuantalFollower`).
OTHER_GAMES_BEHAVIOURS = (Bayesian, Learned, Learning, Lookahead, Quantal)


class MatrixCommitmentEnv(_MatrixEnv):
    """The leader commits to a mixed strategy; a follower of a type drawn from the prior best-responds.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/MatrixCommitment-v0", game=None, agent=None)`` (``None``: ``Rational()``) |
    | Actions | Box ``[-1, 1]^m``, onto the simplex: the leader's mixed strategy ``x`` |
    | Observations | Box ``(2 K m n + K,)``: the game instance, normalized |
    | Players | leader (learns); follower (``agent``) of type ``k ~ p``: ``Rational()`` (strong Stackelberg), or a :class:`~stratgym.games.matrix.Follower` |
    | Reference solver | ``stratgym.baselines.matrix.solve(game)``: one LP per column (K = 1) / DOBSS-style MILP (K > 1) |
    | Known optimum | default ``security_game()``: ``279/265 = 1.053`` (uniform 1/3, best pure 0, Nash 0.75); ``conitzer_sandholm()``: 3.5 |

    ## Description

    A Stackelberg matrix game (Conitzer and Sandholm, EC 2006; Bayesian: Paruchuri et al., AAMAS 2008): the
    leader commits to ``x`` over its ``m`` rows; the follower, of type ``k`` drawn from ``type_prior``, sees ``x``
    and plays a column maximizing ``x . B^k[:, j]``. Ties (:mod:`stratgym.games.ties`): columns within ``TIE_TOL``
    of the type's scale (its largest ``|B^k|``), plus ``m * eps(action dtype)`` of it for the precision of the
    action received, are tied and go to the leader, so the float32 encoding of the exact optimum earns it. A
    custom ``agent`` (:class:`~stratgym.games.matrix.Follower`, e.g. a
    :class:`~stratgym.games.matrix.QuantalFollower`) chooses instead, drawing from ``self.np_random``.

    ## Action Space

    ``Box(-1, 1, (m,), float32)``, mapped by ``box_to_simplex`` (``w = (a + 1) / 2``, ``x = w / sum(w)``, uniform if
    ``w = 0``): every strategy is reachable, pure ones included (``a = 2 e_i - 1``).

    ## Observation Space

    A constant float32 vector describing the game:

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. Kmn-1`` | ``A^k_ij / max|A|`` (type, row, column order) | -1 | 1 |
    | next ``Kmn`` | ``B^k_ij / max_ij |B^k_ij|`` | -1 | 1 |
    | last ``K`` | the type prior ``p`` | 0 | 1 |

    ## Rewards

    The leader's expected payoff over its own row, ``x . A^k[:, j]``, against the drawn type's column ``j``; its
    expectation over types is the commitment's value ``sum_k p_k x . A^k[:, j_k]`` (``info["leader_value"]`` with the
    rational follower).

    ## Starting State

    The game does not change; ``reset`` draws nothing. The type is drawn in ``step`` (``np_random``, only if ``K > 1``).

    ## Episode End

    The follower's answer to the one commitment terminates the episode; it is never truncated.

    ## Arguments

    On Conitzer and Sandholm's game the optimal commitment is ``x = (1/2, 1/2)``: the follower is indifferent between
    its columns and breaks the tie for the leader (column 1), who earns 3.5. ``simplex_to_box`` gives the action that
    commits to a strategy.

    ```python
    >>> import gymnasium as gym
    >>> import stratgym
    >>> from stratgym.envs.spaces import simplex_to_box
    >>> from stratgym.games.matrix import conitzer_sandholm
    >>> env = gym.make("stratgym/MatrixCommitment-v0", game=conitzer_sandholm())
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(simplex_to_box([0.5, 0.5]))
    >>> reward, terminated, info["column"]
    (3.5, True, 1)

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``MatrixGame`` or ``None`` | ``None`` (``security_game()``) | the game instance |
    | ``agent`` | ``Rational()``, ``"rational"``, a :class:`~stratgym.games.matrix.Follower` or ``None`` | ``None`` (``Rational()``) | the follower (``follower=``: its deprecated name) |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step |

    ``info`` after the step: ``strategy`` ``(m,)``, ``type``, ``column``, ``leader_utility`` (the reward),
    ``follower_utility`` (``x . B^k[:, j]``) and, with the rational follower, ``responses`` ``(K,)`` (every type's
    column) and ``leader_value`` (the expectation over types).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: MatrixGame | None = None, agent: Rational | Follower | str | None = None,
                 render_mode: str | None = None, *, follower: Follower | str | None = None):
        super().__init__(game, render_mode)
        agent = as_behaviour(agent_argument(agent, Rational(), follower=follower), self.game)
        if not isinstance(agent, Rational) and (isinstance(agent, OTHER_GAMES_BEHAVIOURS)
                                                or not callable(getattr(agent, "respond", None))):
            raise ValueError(f"agent (the follower) must be Rational() ('rational') or an object with a "
                             f"respond(game, strategy, follower_type, rng) method, got {agent!r}")
        #: The follower: ``Rational()`` or the :class:`~stratgym.games.matrix.Follower` given.
        self.agent = agent
        self._rational = isinstance(agent, Rational)
        self.action_space = simplex_box(self.game.n_leader_actions)
        self._description, low, high = describe_game(self.game)
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float32)

    @property
    def score_basis(self) -> str:
        """``"exact"`` with the rational follower (``info["leader_value"]`` is the expectation), else ``"sampled"``."""
        return "exact" if self._rational else "sampled"

    def expected_return(self, act: Callable[[np.ndarray], np.ndarray]) -> float:
        """The exact expected reward of the deterministic policy ``act(observation) -> action`` (rational follower)."""
        if not self._rational:
            raise ValueError("the expected return is exact only against the rational follower")
        observation, _ = self.reset()
        return float(self.step(act(observation))[4]["leader_value"])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return self._new_episode(self._description.copy())

    def step(self, action):
        self._begin_step()
        game = self.game
        strategy = simplex_action(self.action_space, action)
        follower_type = self._draw(self._cumulative_prior) if game.n_types > 1 else 0
        follower, leader = column_values(game, strategy)
        info = {"strategy": strategy, "type": follower_type}
        if self._rational:
            # The action's precision widens the ties.
            responses = strong_response(game, follower, leader, TIE_TOL + precision_slack(action, game.n_leader_actions))
            column = int(responses[follower_type])
            info["responses"] = responses
            info["leader_value"] = float(game.type_prior @ leader[self._types, responses])
        else:
            column = discrete_action(spaces.Discrete(game.n_follower_actions),
                                     self.agent.respond(game, strategy, follower_type, self.np_random),
                                     "column returned by agent.respond")
        reward = float(leader[follower_type, column])
        info.update(column=column, leader_utility=reward, follower_utility=float(follower[follower_type, column]))
        self._round = 1
        self._last_info = info
        return self._description.copy(), reward, True, False, info


#: Leader commitments ``game -> (m,) strategy`` that :class:`MatrixFollowerEnv` accepts by name. Envs import no
#: solver, so ``"optimal"`` (``stratgym.baselines.matrix.solve``) is declared in the matrix family's registry entry
#: and added by ``stratgym/__init__.py``; add your own with :func:`register_leader`.
LEADER_BUILDERS: dict[str, Callable[[MatrixGame], np.ndarray]] = {
    "uniform": lambda game: np.full(game.n_leader_actions, 1.0 / game.n_leader_actions)}


def register_leader(name: str, builder: Callable[[MatrixGame], np.ndarray]) -> None:
    """Make ``leader=name`` of :class:`MatrixFollowerEnv` commit to ``builder(game)``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not callable(builder):
        raise ValueError(f"builder must be callable as builder(game), got {builder!r}")
    LEADER_BUILDERS[name] = builder


def follower_observation(game: MatrixGame, strategy: np.ndarray, follower_type: int) -> np.ndarray:
    """``MatrixFollower-v0``'s observation ``(m + K,)`` float32: the leader's strategy, then the one-hot type."""
    observation = np.zeros(game.n_leader_actions + game.n_types, dtype=np.float32)
    observation[:game.n_leader_actions] = strategy
    observation[game.n_leader_actions + follower_type] = 1.0
    return observation


class MatrixFollowerEnv(_MatrixEnv):
    """A follower learns to answer a leader committed to a mixed strategy.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/MatrixFollower-v0", game=None, leader="optimal")`` |
    | Actions | Discrete ``n``: the column played |
    | Observations | Box ``[0, 1]^(m + K)``: the leader's strategy ``x``, the one-hot type |
    | Players | follower (learns); leader committed to ``x`` |
    | Reference solver | the type's best response ``argmax_j x . B^k[:, j]`` (exact expected payoff) |
    | Known optimum | ``sum_k p_k max_j x . B^k[:, j]``; default (``security_game()``, optimal ``x``): ``624/265 = 2.355`` (uniformly random column: 1.336) |

    ## Description

    The follower's side of a Stackelberg matrix game: the leader has committed to ``x`` (``leader``); each episode a
    type ``k`` is drawn from the prior and a row ``i`` from ``x``; the follower sees ``x`` and its type (not the
    row) and picks a column ``j``. The best policy plays a best response of its type to ``x``; against the optimal
    commitment the follower is often indifferent (the leader's optimum makes it so), and any of its best responses
    earns the optimum.

    ``leader``: ``"optimal"`` (default: ``stratgym.baselines.matrix.solve(game).theta``), ``"uniform"``, another name
    added with :func:`register_leader`, or any ``(m,)`` strategy.

    ## Action Space

    ``Discrete(n)``: the column.

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. m-1`` | the leader's strategy ``x`` (constant) | 0 | 1 |
    | ``m .. m+K-1`` | one-hot follower type | 0 | 1 |

    ## Rewards

    The follower's realized payoff ``B^k[i, j]`` (the row drawn from ``x``).

    ## Starting State

    A type drawn from the prior (if ``K > 1``) and a row from ``x`` (``np_random``), at ``reset``.

    ## Episode End

    Termination after the single decision. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import stratgym
    >>> from stratgym.games.matrix import conitzer_sandholm
    >>> env = gym.make("stratgym/MatrixFollower-v0", game=conitzer_sandholm(), leader=[1.0, 0.0])
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(0)  # Left against Up: follower payoff 1
    >>> reward, info["row"], info["leader_utility"]
    (1.0, 0, 2.0)

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``MatrixGame`` or ``None`` | ``None`` (``security_game()``) | the game instance |
    | ``leader`` | a name of ``LEADER_BUILDERS`` or an ``(m,)`` strategy | ``"optimal"`` | the committed leader |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step |

    ``info``: ``type`` and ``row`` at reset; after the step also ``column``, ``follower_utility`` (the reward) and
    ``leader_utility`` (``A^k[i, j]``).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: MatrixGame | None = None, leader: str | np.ndarray = "optimal",
                 render_mode: str | None = None):
        super().__init__(game, render_mode)
        if isinstance(leader, str):
            if leader not in LEADER_BUILDERS:
                raise ValueError(f"leader must be one of {sorted(LEADER_BUILDERS)} or an (m,) strategy, got {leader!r}")
            leader = LEADER_BUILDERS[leader](self.game)
        strategy = check_strategy(self.game, leader, "leader")
        if strategy.ndim != 1:
            raise ValueError(f"leader must be one strategy ({self.game.n_leader_actions},), got shape {strategy.shape}")
        self.strategy = strategy
        self.strategy.setflags(write=False)
        self._cumulative_strategy = np.cumsum(strategy).tolist()
        self.action_space = spaces.Discrete(self.game.n_follower_actions)
        size = self.game.n_leader_actions + self.game.n_types
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(size,), dtype=np.float32)
        self._type = self._row = 0

    score_basis = "exact"

    def expected_return(self, act: Callable[[np.ndarray], object]) -> float:
        """The exact expected reward ``sum_k p_k x . B^k[:, j_k]`` of the deterministic policy ``act``, ``j_k`` its
        column on type ``k``'s observation."""
        game, value = self.game, 0.0
        for k in range(game.n_types):
            column = discrete_action(self.action_space, act(follower_observation(game, self.strategy, k)))
            value += float(game.type_prior[k] * (self.strategy @ game.follower_payoffs[k, :, column]))
        return value

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._type = self._draw(self._cumulative_prior) if self.game.n_types > 1 else 0
        self._row = self._draw(self._cumulative_strategy)
        self._round = 0
        self._last_info = {"type": self._type, "row": self._row}
        return follower_observation(self.game, self.strategy, self._type), {"type": self._type, "row": self._row}

    def step(self, action):
        self._begin_step()
        column = discrete_action(self.action_space, action)
        k, row = self._type, self._row
        reward = float(self.game.follower_payoffs[k, row, column])
        info = {"type": k, "row": row, "column": column, "follower_utility": reward,
                "leader_utility": float(self.game.leader_payoffs[k, row, column])}
        self._round = 1
        self._last_info = info
        return follower_observation(self.game, self.strategy, k), reward, True, False, info


def draw_batch(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``_MatrixEnv._draw`` for a batch of uniforms ``u`` ``(k,)`` from the cumulative sums ``cumulative`` ``(c,)``."""
    return np.minimum(np.searchsorted(cumulative, u * cumulative[-1], side="right"), len(cumulative) - 1)


class MatrixCommitmentVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`MatrixCommitmentEnv` episodes stepped together (native vector env; keyword arguments go
    to the scalar env).

    Autoreset ``NEXT_STEP`` (default: an episode is one step, so a sub-env that just played is reset by the next
    step) or ``SAME_STEP`` (:mod:`stratgym.envs.vector`). The rational follower's columns for the whole batch come
    from one product and :func:`~stratgym.games.matrix.strong_response`; a
    :class:`~stratgym.games.matrix.QuantalFollower`'s from its batched probabilities, drawn as its ``respond``
    draws. Each stepping sub-env draws, in index order, its type (if ``K > 1``), then a quantal follower's column.
    Any other follower answers one sub-env at a time (:class:`~stratgym.envs.vector.SubEnvLoop`). ``info``: the
    scalar env's keys batched, each with its mask.
    """

    def __init__(self, num_envs: int = 1, autoreset_mode=AutoresetMode.NEXT_STEP, max_episode_steps: int | None = None,
                 **kwargs):
        single = MatrixCommitmentEnv(**kwargs)
        super().__init__(single, num_envs, autoreset_mode, max_episode_steps)
        self.game = game = single.game
        self._rational = single.score_basis == "exact"
        follower = single.agent
        self._quantal = follower if type(follower) is QuantalFollower else None  # a subclass may respond otherwise
        self._loop = None if self._rational or self._quantal is not None else SubEnvLoop(single, self.num_envs)
        self._cumulative_prior = np.array(single._cumulative_prior)
        self._type_draws = int(game.n_types > 1)
        self._observation = np.repeat(describe_game(game)[0][None], self.num_envs, axis=0)

    def _restart(self, rows) -> dict:
        return {} if self._loop is None else self._loop.restart(rows, self.np_random)

    def _play(self, rows, mapped: np.ndarray, actions):
        if self._loop is not None:
            return self._loop.play(rows, actions, self.np_random)
        game, strategies = self.game, mapped[rows]
        k = len(strategies)
        envs = np.arange(k)
        u = self.np_random.random((k, self._type_draws + (self._quantal is not None)))  # per sub-env, in order
        types = draw_batch(self._cumulative_prior, u[:, 0]) if self._type_draws else np.zeros(k, dtype=np.int64)
        follower, leader = column_values(game, strategies)  # (k, K, n)
        info = {"strategy": strategies, "type": types}
        if self._rational:
            responses = strong_response(game, follower, leader, TIE_TOL + precision_slack(actions, game.n_leader_actions))
            columns = responses[envs, types]
            info["responses"] = responses
            info["leader_value"] = leader[envs[:, None], np.arange(game.n_types), responses] @ game.type_prior
        else:  # QuantalFollower.respond: rng.choice(n, p) inverts one uniform on p's normalized cumulative sums
            probabilities = self._quantal.choice_probabilities(game, follower[envs, types], types)
            cumulative = np.cumsum(probabilities, axis=-1)
            cumulative /= cumulative[:, -1:]
            columns = (cumulative <= u[:, -1:]).sum(axis=-1)
        rewards = leader[envs, types, columns]
        info.update(column=columns, leader_utility=rewards, follower_utility=follower[envs, types, columns])
        return rewards, np.ones(k, dtype=bool), info

    def _observations(self) -> np.ndarray:
        return self._observation.copy() if self._loop is None else self._loop.obs.copy()


class MatrixFollowerVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`MatrixFollowerEnv` episodes stepped together (native vector env; keyword arguments go to
    the scalar env).

    Autoreset ``NEXT_STEP`` (default) or ``SAME_STEP`` (:mod:`stratgym.envs.vector`). Each new episode draws, sub-env
    after sub-env, its type (if ``K > 1``) and then the leader's row; the reset info has them. ``info`` of a step:
    the scalar env's keys batched, each with its mask.
    """

    def __init__(self, num_envs: int = 1, autoreset_mode=AutoresetMode.NEXT_STEP, max_episode_steps: int | None = None,
                 **kwargs):
        single = MatrixFollowerEnv(**kwargs)
        super().__init__(single, num_envs, autoreset_mode, max_episode_steps)
        self.game = game = single.game
        self.strategy = single.strategy
        self._cumulative_prior = np.array(single._cumulative_prior)
        self._cumulative_strategy = np.array(single._cumulative_strategy)
        self._type_draws = int(game.n_types > 1)
        self._observation_rows = np.stack([follower_observation(game, self.strategy, k) for k in range(game.n_types)])
        self._types = np.zeros(self.num_envs, dtype=np.int64)
        self._rows = np.zeros(self.num_envs, dtype=np.int64)

    def _restart(self, rows) -> dict:
        k = count(rows, self.num_envs)
        u = self.np_random.random((k, self._type_draws + 1))  # per new episode: its type, its row
        types = draw_batch(self._cumulative_prior, u[:, 0]) if self._type_draws else np.zeros(k, dtype=np.int64)
        drawn_rows = draw_batch(self._cumulative_strategy, u[:, -1])
        # Copies: the arrays of earlier infos are never changed.
        self._types, self._rows = self._types.copy(), self._rows.copy()
        self._types[rows], self._rows[rows] = types, drawn_rows
        return {"type": types, "row": drawn_rows}

    def _play(self, rows, mapped: np.ndarray, actions):
        columns, types, drawn_rows = mapped[rows], self._types[rows], self._rows[rows]
        rewards = self.game.follower_payoffs[types, drawn_rows, columns]
        info = {"type": types, "row": drawn_rows, "column": columns, "follower_utility": rewards,
                "leader_utility": self.game.leader_payoffs[types, drawn_rows, columns]}
        return rewards, np.ones(len(columns), dtype=bool), info

    def _observations(self) -> np.ndarray:
        return self._observation_rows[self._types]
