"""Two-sided learning: the principal and the agent both learn on a :mod:`stratgym.multiagent` env, and where they end
is compared with the Stackelberg optimum.

The loop (:func:`train_two_sided`) reads top to bottom. Each side is an independent SB3 PPO learner (or, for the
agent, a no-regret / fictitious-play :class:`~stratgym.agents.followers.Contextual` follower). The runner steps the
PettingZoo AEC env itself: at a player's turn ``env.last()`` gives the reward of its previous move (PettingZoo
accumulates it), which completes that move's transition in the player's own PPO rollout buffer; the player then
acts with its current policy. When a player's buffer is full, its returns are computed (GAE, bootstrapped from its
current observation) and it takes one PPO update; the other player keeps acting. SuperSuit is not needed: nothing
is vectorized or padded, and the players' observation and action spaces differ.

Schedules (who updates when; every schedule runs ``rounds`` rounds of play):

* ``simultaneous``: both players collect ``n_steps`` moves and update, over and over, each on its own data.
* ``alternating``: one player learns while the other is frozen (it keeps acting, its moves are not learned from),
  switching after ``phase_updates`` updates of the learner; the principal learns first.
* ``fast-leader``: the principal updates every ``n_steps`` moves, the agent every ``ratio * n_steps``.
* ``fast-follower``: the agent updates every ``n_steps`` moves, the principal every ``ratio * n_steps``.

``moves="sequential"`` plays the AEC env (the agent sees the principal's move: the Stackelberg order);
``moves="simultaneous"`` the parallel env (through PettingZoo's ``parallel_to_aec``), whose equilibria are Nash.

Where learning ends (:class:`TwoSidedResult`): the final policies are evaluated exactly (persuasion: the principal's
recommendation probabilities as a scheme against the agent's deterministic answers; stateful: one deterministic
episode; matrix: the leader's deterministic commitment against each follower type's answer), with each side's
regret against the other's final policy: the agent's against its exact best response, the principal's against its
best response to the frozen agent (persuasion: exact; stateful: the best plan of vertex rules, a lower bound;
matrix: the best of the pure, uniform, learned and Stackelberg commitments, exact when the follower does not see
the commitment). Both regrets near 0 below the optimum means a Nash equilibrium of the learned game
that is not the Stackelberg one; :attr:`TwoSidedResult.verdict` says which.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from pettingzoo.utils import parallel_to_aec
from stable_baselines3 import PPO

from stratgym.agents.followers import Contextual, FictitiousPlay, Hedge
from stratgym.agents.train import quiet_logger
from stratgym.baselines.matrix import best_pure_commitment, nash_equilibria, uniform_commitment
from stratgym.baselines.matrix import solve as solve_matrix
from stratgym.baselines.signaling import full_revelation, no_information, optimal_scheme
from stratgym.baselines.stateful import solve, uniform_weights
from stratgym.envs.matrix import follower_observation
from stratgym.envs.spaces import simplex_action, simplex_to_box
from stratgym.games.validation import as_positive_int
from stratgym.games.matrix import MatrixGame, security_game
from stratgym.games.persuasion import PersuasionGame, prosecutor
from stratgym.games.stateful import StatefulGame, classroom_project
from stratgym.multiagent import matrix_v0, persuasion_v0, stateful_v0
from stratgym.multiagent.base import AGENT, PLAYERS, PRINCIPAL

SCHEDULES = ("simultaneous", "alternating", "fast-leader", "fast-follower")
MOVES = ("sequential", "simultaneous")
AGENT_LEARNERS = ("ppo", "hedge", "fictitious-play")
#: PPO settings of both sides unless ``ppo_kwargs`` overrides them (small nets, quick updates: tiny games).
PPO_DEFAULTS = {"learning_rate": 1e-3, "n_epochs": 5, "batch_size": 32, "gae_lambda": 0.95, "ent_coef": 0.0,
                "policy_kwargs": {"net_arch": [32, 32]}}
#: Regrets below this share of the game's payoff scale count as "best-responding" in :attr:`TwoSidedResult.verdict`.
REGRET_SHARE = 0.05
#: A principal value at least this share of the optimum counts as reaching it.
OPTIMUM_SHARE = 0.95


class _SpacesOnly(gym.Env):
    """The spaces of one player, so that SB3 can build its policy; the runner steps the PettingZoo env itself."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space):
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        raise RuntimeError("the two-sided runner steps the PettingZoo env itself")


class _PPOSide:
    """One PPO learner fed move by move: ``act`` on a turn, ``complete`` when the move's reward is known."""

    def __init__(self, observation_space, action_space, n_steps: int, gamma: float, seed: int, ppo_kwargs: dict):
        kwargs = dict(PPO_DEFAULTS, **ppo_kwargs)
        kwargs["batch_size"] = min(kwargs["batch_size"], n_steps)
        self.model = PPO("MlpPolicy", _SpacesOnly(observation_space, action_space), n_steps=n_steps, gamma=gamma,
                         seed=seed, device="cpu", verbose=0, **kwargs)
        self.model.set_logger(quiet_logger())
        self.action_space = action_space
        self.pending: tuple | None = None
        self.episode_start = True
        self.updates = 0

    def _forward(self, observation: np.ndarray):
        with torch.no_grad():
            return self.model.policy(torch.as_tensor(observation[None]))

    def act(self, observation: np.ndarray, learning: bool):
        actions, values, log_probs = self._forward(observation)
        action = actions.numpy()[0]
        if learning:
            self.pending = (observation, action, values, log_probs, self.episode_start)
        self.episode_start = False
        if isinstance(self.action_space, spaces.Box):
            return np.clip(action, self.action_space.low, self.action_space.high)
        return int(action)

    def complete(self, reward: float, ended: bool, observation: np.ndarray) -> None:
        """The pending move earned ``reward``; update if the buffer is full (bootstrapping from ``observation``)."""
        if ended:
            self.episode_start = True
        if self.pending is None:
            return
        observation_before, action, values, log_probs, start = self.pending
        self.pending = None
        buffer = self.model.rollout_buffer
        buffer.add(observation_before[None], np.asarray(action)[None], np.array([reward]), np.array([start]),
                   values, log_probs)
        if buffer.full:
            last_values = self._forward(observation)[1]
            buffer.compute_returns_and_advantage(last_values=last_values, dones=np.array([ended]))
            self.model.policy.set_training_mode(True)
            self.model.train()
            self.model.policy.set_training_mode(False)
            buffer.reset()
            self.updates += 1

    def discard(self) -> None:
        """Forget the moves collected so far (a frozen phase starts)."""
        self.pending = None
        self.model.rollout_buffer.reset()

    def predict(self, observation: np.ndarray):
        return self.model.predict(observation, deterministic=True)[0]

    def probabilities(self, observation: np.ndarray) -> np.ndarray:
        """Discrete actions: the policy's action probabilities ``(A,)`` at ``observation``."""
        with torch.no_grad():
            distribution = self.model.policy.get_distribution(torch.as_tensor(observation[None]))
        return distribution.distribution.probs.numpy()[0].astype(np.float64)


class _FollowerSide:
    """A :class:`Contextual` follower as the agent, in the context ``context(observation)`` the game defines
    (persuasion: the recommendation heard, or none; matrix: the type)."""

    def __init__(self, follower: Contextual, context, seed: int):
        self.follower, self.context_of, self.rng = follower, context, np.random.default_rng(seed)
        self.context: int | None = None
        self.updates = 0

    def act(self, observation: np.ndarray, learning: bool) -> int:
        self.context = self.context_of(observation)
        return self.follower.act(self.context, self.rng)

    def complete_round(self, info: dict) -> None:
        if self.context is not None and "agent_payoffs" in info:
            self.follower.update(self.context, info["agent_payoffs"])
            self.updates += 1
        self.context = None

    def predict(self, observation: np.ndarray) -> int:
        return int(np.argmax(self.follower.probabilities(self.context_of(observation))))


@dataclass
class TwoSidedResult:
    """Where two-sided learning ended.

    Attributes:
        game, moves, schedule, agent_learner, seed, rounds: the configuration.
        principal_value: the principal's expected payoff per episode under the final policies.
        optimum: the Stackelberg optimum (the reference solver's value); ``value_ratio = principal_value / optimum``
            (``None`` when the optimum is 0).
        agent_value, agent_best_value, agent_regret: the agent's payoff, its best response's, their difference.
        principal_regret: the principal's best response to the frozen final agent minus its value (persuasion:
            exact; stateful: over plans of vertex rules, a lower bound).
        references: principal values of named outcomes (full revelation, no information, the uniform plan...).
        nearest_reference: the named outcome (optimum included) closest to ``principal_value``.
        verdict: in words: "Stackelberg optimum", "Nash equilibrium below the optimum (...)" or "not converged (...)".
        curve: ``[(rounds played, mean principal return, mean agent return)]`` over windows of episodes.
        updates: PPO updates per player; wall_time: seconds.
    """

    game: str
    moves: str
    schedule: str
    agent_learner: str
    seed: int
    rounds: int
    principal_value: float
    optimum: float
    value_ratio: float | None
    agent_value: float
    agent_best_value: float
    agent_regret: float
    principal_regret: float
    references: dict[str, float]
    nearest_reference: str
    verdict: str
    curve: list[tuple[int, float, float]] = field(default_factory=list)
    updates: dict[str, int] = field(default_factory=dict)
    wall_time: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: The multi-agent games two-sided training runs on (:mod:`stratgym.multiagent` modules).
GAMES = {"stateful_v0": stateful_v0, "persuasion_v0": persuasion_v0, "matrix_v0": matrix_v0}


def _make_env(game: str, game_instance, moves: str):
    module = GAMES[game]
    if moves == "sequential":
        return module.env(game_instance)
    return parallel_to_aec(module.parallel_env(game_instance))


def _check_choice(value, choices, name: str) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def train_two_sided(game: str = "persuasion_v0", instance: StatefulGame | PersuasionGame | MatrixGame | None = None,
                    moves: str = "sequential", schedule: str = "simultaneous", rounds: int = 4096,
                    n_steps: int = 128, ratio: int = 4, phase_updates: int = 4, agent: str = "ppo", seed: int = 0,
                    ppo_kwargs: dict | None = None, progress: bool = False) -> TwoSidedResult:
    """Train both sides of ``game`` (a :mod:`stratgym.multiagent` module name) for ``rounds`` rounds of play.

    ``instance``: the game instance (``None``: the module's default, :func:`default_instance`).
    ``schedule``, ``moves``: see the module docstring. ``n_steps``: moves per PPO update of a fast (or any, if
    ``simultaneous``) player; ``ratio``: how many times slower the slow player of ``fast-leader`` /
    ``fast-follower`` updates; ``phase_updates``: updates per phase of ``alternating``. ``agent``: ``"ppo"``, or a
    full-information follower (``"hedge"``, ``"fictitious-play"``; persuasion and matrix: it learns from the revealed
    ``agent_payoffs``). PPO's discount: 1 for the principal (its return is ``U_P``), the game's ``gamma`` for the
    stateful agent (its return is ``U_A``). Deterministic for a given ``seed`` on one machine (one torch thread).
    """
    _check_choice(game, tuple(GAMES), "game")
    _check_choice(moves, MOVES, "moves")
    _check_choice(schedule, SCHEDULES, "schedule")
    _check_choice(agent, AGENT_LEARNERS, "agent")
    rounds, n_steps = as_positive_int(rounds, "rounds"), as_positive_int(n_steps, "n_steps", minimum=2)
    ratio, phase_updates = as_positive_int(ratio, "ratio"), as_positive_int(phase_updates, "phase_updates")
    torch.set_num_threads(1)
    started = time.perf_counter()
    env = _make_env(game, instance, moves)
    core = env.unwrapped.game
    if agent != "ppo" and not hasattr(core, "follower_context"):
        raise ValueError(f"agent={agent!r} learns from full-information feedback, which {game} does not reveal")
    agent_gamma = core.game.discount if game == "stateful_v0" else 1.0
    sizes = {PRINCIPAL: n_steps * (ratio if schedule == "fast-follower" else 1),
             AGENT: n_steps * (ratio if schedule == "fast-leader" else 1)}
    sides: dict[str, Any] = {PRINCIPAL: _PPOSide(env.observation_space(PRINCIPAL), env.action_space(PRINCIPAL),
                                                 sizes[PRINCIPAL], 1.0, seed, ppo_kwargs or {})}
    if agent == "ppo":
        sides[AGENT] = _PPOSide(env.observation_space(AGENT), env.action_space(AGENT), sizes[AGENT], agent_gamma,
                                seed + 1, ppo_kwargs or {})
    else:
        n_actions = int(env.action_space(AGENT).n)
        low, high = _agent_payoff_range(game, core)
        make = (lambda: Hedge(n_actions, horizon=rounds, reward_range=(low, high))) if agent == "hedge" \
            else (lambda: FictitiousPlay(n_actions))
        sides[AGENT] = _FollowerSide(Contextual(core.n_follower_contexts, make), core.follower_context, seed + 1)
    learning = {PRINCIPAL: True, AGENT: schedule != "alternating"}
    returns, episode_returns = {player: 0.0 for player in PLAYERS}, []
    played, finished = 0, set()  # finished: players whose last move has been completed after the final round
    bar = _progress(rounds, progress)
    env.reset(seed=seed)
    while len(finished) < len(PLAYERS):
        if not env.agents:
            episode_returns.append((played, returns[PRINCIPAL], returns[AGENT]))
            returns = {player: 0.0 for player in PLAYERS}
            env.reset()
        player = env.agent_selection
        observation, reward, terminated, truncated, info = env.last()
        returns[player] += reward
        side = sides[player]
        ended = terminated or truncated
        if isinstance(side, _FollowerSide):
            side.complete_round(info)
        else:
            before = side.updates
            side.complete(reward, ended, observation)
            if schedule == "alternating" and side.updates > before and side.updates % phase_updates == 0:
                learning[player], other = False, AGENT if player == PRINCIPAL else PRINCIPAL
                learning[other] = True
                sides[player].discard()
        if played >= rounds:  # the budget is spent: this player's last move is now complete
            finished.add(player)
        if ended:
            env.step(None)
            continue
        env.step(side.act(observation, learning[player] and played < rounds))
        if player == AGENT and played < rounds:
            played += 1
            bar.update(1)
    bar.close()
    result = _evaluate(game, core, moves, sides)
    return TwoSidedResult(game=game, moves=moves, schedule=schedule, agent_learner=agent, seed=seed, rounds=rounds,
                          curve=_curve(episode_returns), updates={p: sides[p].updates for p in PLAYERS},
                          wall_time=time.perf_counter() - started, **result)


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="two-sided rounds", disable=not enabled, leave=False)


def _curve(episode_returns: list, points: int = 10) -> list[tuple[int, float, float]]:
    """Mean returns over ``points`` consecutive windows of episodes."""
    if not episode_returns:
        return []
    windows = np.array_split(np.array(episode_returns, dtype=np.float64), min(points, len(episode_returns)))
    return [(int(w[-1, 0]), float(w[:, 1].mean()), float(w[:, 2].mean())) for w in windows]


def _persuasion_outcome(core, informed: bool, sides: dict) -> tuple:
    """The persuasion game's final outcome: the principal's recommendation probabilities as a scheme against the
    agent's deterministic answers, and its exact best response to those answers."""
    regions = core.regions
    R, A = regions.n_regions, regions.n_actions
    scheme = np.array([sides[PRINCIPAL].probabilities(np.eye(R, dtype=np.float32)[s]) for s in range(R)])
    scheme /= scheme.sum(axis=1, keepdims=True)
    heard = np.eye(A + 1, dtype=np.float32)
    responses = np.array([int(sides[AGENT].predict(heard[a if informed else A])) for a in range(A)])
    outcome = persuasion_v0.outcome(regions, scheme, responses, informed=informed)
    masses = regions.masses / regions.masses.sum()
    principal_best = float(masses @ regions.principal_payoffs[:, responses].max(axis=1))
    references = {"full revelation": full_revelation(regions).principal_value,
                  "no information (the cheap-talk / Nash outcome)": no_information(regions).principal_value}
    scales = float(np.ptp(regions.principal_payoffs)) or 1.0, float(np.ptp(regions.agent_payoffs)) or 1.0
    return outcome, principal_best, optimal_scheme(regions).principal_value, references, scales


def _stateful_outcome(core, informed: bool, sides: dict) -> tuple:
    """The stateful game's final outcome: one deterministic episode, and the principal's best plan of vertex rules
    against the frozen agent (a lower bound of its best response)."""
    T, n = core.game.horizon, core.game.n_features
    shell = stateful_v0.env(core.game) if informed else stateful_v0.parallel_env(core.game)
    policies = {player: sides[player].predict for player in PLAYERS}
    outcome = stateful_v0.outcome(shell, policies)
    outcome.pop("plan")
    outcome.pop("best_response_principal_value")
    vertices = simplex_to_box(np.eye(n))
    principal_best = max(stateful_v0.outcome(shell, dict(policies, **{
        PRINCIPAL: (lambda obs, plan=plan: vertices[plan[int(np.argmax(obs[:T + 1]))]])}))["principal_value"]
        for plan in itertools.product(range(n), repeat=T)) if n ** T <= 4096 else outcome["principal_value"]
    references = {"uniform plan": uniform_weights(core.game).principal_value}
    scales = (float(T * core.game.budget * np.abs(core.game.effort_value).max()) or 1.0,
              float(T * core.game.budget * core.game.conversion_matrix.max()) or 1.0)
    return outcome, principal_best, solve(core.game, "rational").principal_value, references, scales


def _matrix_outcome(core, informed: bool, sides: dict) -> tuple:
    """The matrix game's final outcome: the leader's deterministic commitment against each type's answer, and its
    best response to the frozen follower over the pure strategies, the uniform one, its own and the Stackelberg one
    (a lower bound; exact when the follower does not see the commitment)."""
    game = core.game
    start = np.eye(core.rounds + 1, dtype=np.float32)[0]
    space = core.action_spaces[PRINCIPAL]

    def columns(strategy: np.ndarray) -> np.ndarray:
        seen = strategy if informed else np.zeros_like(strategy)
        return np.array([int(sides[AGENT].predict(follower_observation(game, seen, k))) for k in range(game.n_types)])

    strategy = simplex_action(space, sides[PRINCIPAL].predict(start))
    outcome = matrix_v0.outcome(game, strategy, columns(strategy))
    optimum = solve_matrix(game)
    candidates = [*np.eye(game.n_leader_actions), np.full(game.n_leader_actions, 1.0 / game.n_leader_actions),
                  strategy, optimum.theta]
    principal_best = max(matrix_v0.outcome(game, x, columns(x))["principal_value"] for x in candidates)
    references = {"best pure commitment": best_pure_commitment(game).principal_value,
                  "uniform commitment": uniform_commitment(game).principal_value}
    try:
        references["best Nash equilibrium"] = max(e.leader_value for e in nash_equilibria(game))
    except ValueError:  # too many supports to enumerate
        pass
    scales = float(np.ptp(game.leader_payoffs)) or 1.0, float(np.ptp(game.follower_payoffs)) or 1.0
    return outcome, principal_best, optimum.principal_value, references, scales


#: Each game's final-outcome function (``(outcome, principal_best, optimum, references, (scale, agent_scale))``).
_OUTCOMES = {"persuasion_v0": _persuasion_outcome, "stateful_v0": _stateful_outcome, "matrix_v0": _matrix_outcome}


def _evaluate(game: str, core, moves: str, sides: dict) -> dict[str, Any]:
    """The final policies' outcome, the optimum, the references and the verdict (see the module docstring)."""
    outcome, principal_best, optimum, references, (scale, agent_scale) = _OUTCOMES[game](
        core, moves == "sequential", sides)
    value = outcome["principal_value"]
    principal_regret = max(principal_best - value, 0.0)
    candidates = {"Stackelberg optimum": optimum, **references}  # first on ties: the optimum
    nearest = min(candidates, key=lambda name: abs(candidates[name] - value))
    if outcome["agent_regret"] > REGRET_SHARE * agent_scale:
        verdict = f"not converged: the agent is {outcome['agent_regret']:.3g} from its best response"
    elif optimum > 0 and value >= OPTIMUM_SHARE * optimum:
        verdict = "Stackelberg optimum"
    elif principal_regret <= REGRET_SHARE * scale:
        verdict = f"Nash equilibrium below the optimum (both best-respond), nearest: {nearest}"
    else:
        verdict = (f"below the optimum, the agent best-responding; the principal could gain {principal_regret:.3g} "
                   f"against this agent, nearest: {nearest}")
    return dict(outcome, optimum=float(optimum), value_ratio=float(value / optimum) if optimum else None,
                principal_regret=float(principal_regret), references={k: float(v) for k, v in references.items()},
                nearest_reference=nearest, verdict=verdict)


def _agent_payoff_range(game: str, core) -> tuple[float, float]:
    """The range of the agent's per-round payoffs (a Hedge follower's reward range)."""
    payoffs = core.regions.agent_payoffs if game == "persuasion_v0" else core.game.follower_payoffs
    return float(payoffs.min()), float(max(payoffs.max(), payoffs.min() + 1e-9))


def default_instance(game: str):
    """The game instance of ``game``'s module default (``classroom_project()``, ``prosecutor()``, ``security_game()``)."""
    return {"stateful_v0": classroom_project, "persuasion_v0": prosecutor, "matrix_v0": security_game}[game]()


def main(argv: list[str] | None = None) -> int:
    """``python -m stratgym.agents.twosided``: one two-sided run, its result as JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", choices=tuple(GAMES), default="persuasion_v0")
    parser.add_argument("--moves", choices=MOVES, default="sequential")
    parser.add_argument("--schedule", choices=SCHEDULES, default="simultaneous")
    parser.add_argument("--agent", choices=AGENT_LEARNERS, default="ppo")
    parser.add_argument("--rounds", type=int, default=4096)
    parser.add_argument("--n-steps", type=int, default=128)
    parser.add_argument("--ratio", type=int, default=4)
    parser.add_argument("--phase-updates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    result = train_two_sided(args.game, moves=args.moves, schedule=args.schedule, rounds=args.rounds,
                             n_steps=args.n_steps, ratio=args.ratio, phase_updates=args.phase_updates,
                             agent=args.agent, seed=args.seed, progress=args.progress)
    print(json.dumps(result.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
