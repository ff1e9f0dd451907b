"""What the two-player PettingZoo envs share: a round protocol for each game, and the AEC and parallel shells.

A game module (``stateful_v0``, ``persuasion_v0``, ``matrix_v0``) writes one :class:`RoundGame`: the players' spaces, how a
round is played (the principal moves, then the agent), what each player observes. The shells add the PettingZoo
bookkeeping once:

* :class:`SequentialEnv` (AEC, ``env()``): each round the principal moves first, then the agent, who observes
  the principal's move before acting: the Stackelberg (leader–follower) order of the papers.
* :class:`SimultaneousEnv` (parallel, ``parallel_env()``): both move at once each round, so the agent acts on
  what it observed *before* the principal's move (no rule / no recommendation of this round): the
  simultaneous-move version of the same game, whose equilibria are Nash equilibria, not Stackelberg ones.

Seeding follows Gymnasium: ``reset(seed=s)`` re-seeds the env's ``np_random`` (``gymnasium.utils.seeding``);
``reset()`` continues the stream. Invalid actions raise ``ValueError`` before anything changes, so the move can
be retried.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv, ParallelEnv

from stratgym.envs.spaces import discrete_action

#: The players, in the order they move within a round (PettingZoo's ``<descriptor>_<number>`` names).
PRINCIPAL, AGENT = "principal_0", "agent_0"
PLAYERS = (PRINCIPAL, AGENT)
RENDER_MODES = ["ansi"]


class RoundGame:
    """One game as rounds of "the principal moves, then the agent" (the protocol both shells drive).

    Subclasses set ``observation_spaces`` / ``action_spaces`` (dicts keyed by :data:`PLAYERS`) and ``rounds`` (the
    episode length in rounds) in ``__init__`` and implement the methods below. Randomness only from the ``rng``
    passed in (the shell's ``np_random``). ``info`` of a round is shared by both players.

    A game whose ``info`` reveals ``agent_payoffs`` (what every agent action would have earned this round) also
    sets ``n_follower_contexts`` and implements ``follower_context(observation) -> int``: the discrete context a
    full-information follower (:mod:`stratgym.agents.followers`) conditions on.
    """

    observation_spaces: dict[str, spaces.Space]
    action_spaces: dict[str, spaces.Space]
    rounds: int

    def start(self, rng: np.random.Generator) -> None:
        """Start an episode."""
        raise NotImplementedError

    def observe(self, player: str) -> np.ndarray:
        """What ``player`` observes now (the agent's view includes the principal's move once it is made)."""
        raise NotImplementedError

    def principal_moves(self, action, rng: np.random.Generator) -> None:
        """Validate and record the principal's move of this round (``ValueError`` naming it, nothing changed)."""
        raise NotImplementedError

    def check_agent_action(self, action):
        """The agent's action checked (``ValueError`` naming it), without playing it: a ``Discrete`` action as an
        ``int`` by default (a game whose agent acts in another space overrides this)."""
        return discrete_action(self.action_spaces[AGENT], action, name="agent action")

    def agent_moves(self, action, rng: np.random.Generator) -> tuple[float, float, dict[str, Any]]:
        """Validate the agent's move, play the round: ``(principal reward, agent reward, info)``."""
        raise NotImplementedError

    def describe(self) -> str:
        """A one-line text summary of the last round (the ``"ansi"`` render)."""
        raise NotImplementedError


def check_render_mode(render_mode: str | None) -> str | None:
    """``render_mode`` if it is ``None`` or ``"ansi"``; ``ValueError`` otherwise."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {RENDER_MODES}, got {render_mode!r}")
    return render_mode


def _check_rng_seed(seed) -> None:
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")


class _Shell:
    """Seeding, spaces, rendering and the round counter shared by both shells (a mixin on a PettingZoo base)."""

    game: RoundGame

    def _setup(self, game: RoundGame, render_mode: str | None) -> None:
        self.game = game
        self.render_mode = check_render_mode(render_mode)
        self.possible_agents = list(PLAYERS)
        self.agents: list[str] = []
        self.observation_spaces = dict(game.observation_spaces)
        self.action_spaces = dict(game.action_spaces)
        self.np_random, _ = seeding.np_random(None)
        self.rounds_played = 0

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def _start(self, seed) -> None:
        _check_rng_seed(seed)
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        self.game.start(self.np_random)
        self.agents = list(PLAYERS)
        self.rounds_played = 0

    def render(self) -> str | None:
        """``"ansi"``: the last round as text; ``None`` without a render mode."""
        if self.render_mode is None:
            return None
        return f"{self.metadata['name']}: round {self.rounds_played}/{self.game.rounds}: {self.game.describe()}\n"

    def close(self) -> None:
        """Nothing to release."""


class SequentialEnv(_Shell, AECEnv):
    """The AEC env of a :class:`RoundGame`: each round the principal moves, then the agent (who sees that move).

    Rewards of a round reach both players when the agent has moved (the principal's through PettingZoo's
    cumulative rewards at its next turn); both are terminated after ``game.rounds`` rounds.
    """

    metadata = {"render_modes": RENDER_MODES, "name": "round_game", "is_parallelizable": False}

    def __init__(self, game: RoundGame, render_mode: str | None = None):
        super().__init__()
        self._setup(game, render_mode)
        self.agent_selection = PRINCIPAL
        self.rewards = {}
        self._cumulative_rewards = {}
        self.terminations = {}
        self.truncations = {}
        self.infos = {}

    def observe(self, agent: str) -> np.ndarray:
        return self.game.observe(agent)

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self._start(seed)
        self.rewards = {agent: 0.0 for agent in self.agents}
        self._cumulative_rewards = {agent: 0.0 for agent in self.agents}
        self.terminations = {agent: False for agent in self.agents}
        self.truncations = {agent: False for agent in self.agents}
        self.infos = {agent: {} for agent in self.agents}
        self.agent_selection = PRINCIPAL

    def step(self, action) -> None:
        if not self.agents:
            raise ValueError("the episode has ended: call reset() before step()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if agent == PRINCIPAL:
            self.game.principal_moves(action, self.np_random)  # raises before anything changes
            self._cumulative_rewards[agent] = 0.0
            self._clear_rewards()
            self.agent_selection = AGENT
        else:
            principal_reward, agent_reward, info = self.game.agent_moves(action, self.np_random)
            self._cumulative_rewards[agent] = 0.0
            self.rewards = {PRINCIPAL: float(principal_reward), AGENT: float(agent_reward)}
            self.infos = {player: dict(info) for player in PLAYERS}
            self.rounds_played += 1
            if self.rounds_played >= self.game.rounds:
                self.terminations = {player: True for player in PLAYERS}
            self.agent_selection = PRINCIPAL
        self._accumulate_rewards()


class SimultaneousEnv(_Shell, ParallelEnv):
    """The parallel env of a :class:`RoundGame`: each round both players move at once.

    The observations handed out before a round are the ones of the round's start, so the agent's action cannot
    depend on the principal's move of that round. Both players leave ``agents`` after ``game.rounds`` rounds.
    """

    metadata = {"render_modes": RENDER_MODES, "name": "round_game"}

    def __init__(self, game: RoundGame, render_mode: str | None = None):
        self._setup(game, render_mode)

    def reset(self, seed: int | None = None, options: dict | None = None):
        self._start(seed)
        return {agent: self.game.observe(agent) for agent in self.agents}, {agent: {} for agent in self.agents}

    def step(self, actions: dict):
        if not self.agents:
            raise ValueError("the episode has ended: call reset() before step()")
        if not isinstance(actions, dict) or set(actions) != set(self.agents):
            raise ValueError(f"actions must be a dict with one action for each of {self.agents}, got {actions!r}")
        # Validate the agent's move before the principal's is recorded, so a bad action changes nothing.
        self.game.check_agent_action(actions[AGENT])
        self.game.principal_moves(actions[PRINCIPAL], self.np_random)
        principal_reward, agent_reward, info = self.game.agent_moves(actions[AGENT], self.np_random)
        self.rounds_played += 1
        ended = self.rounds_played >= self.game.rounds
        observations = {agent: self.game.observe(agent) for agent in self.agents}
        rewards = {PRINCIPAL: float(principal_reward), AGENT: float(agent_reward)}
        terminations = {agent: ended for agent in self.agents}
        truncations = {agent: False for agent in self.agents}
        infos = {agent: dict(info) for agent in self.agents}
        if ended:
            self.agents = []
        return observations, rewards, terminations, truncations, infos


def play_episode(shell: SequentialEnv | SimultaneousEnv, policies: dict, seed: int | None = 0) -> list[dict[str, Any]]:
    """Play one episode of ``shell`` with ``policies`` (``{player: observation -> action}``); the rounds' ``info``."""
    infos = []
    if isinstance(shell, SimultaneousEnv):
        observations, _ = shell.reset(seed=seed)
        while shell.agents:
            observations, _, _, _, info = shell.step({player: policies[player](observations[player])
                                                      for player in shell.agents})
            infos.append(info[AGENT])
        return infos
    shell.reset(seed=seed)
    for player in shell.agent_iter():
        observation, _, terminated, truncated, _ = shell.last()
        if terminated or truncated:
            shell.step(None)
            continue
        shell.step(policies[player](observation))
        if player == AGENT:
            infos.append(shell.infos[AGENT])
    return infos
