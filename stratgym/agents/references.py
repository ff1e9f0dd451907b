"""What each stratgym env is scored against: env id -> side, description, exact optimum and baselines.

:data:`REFERENCES` is the one table that maps an env id to how its reference values are computed.
Values are in the units of the env's episode return (summed with :func:`Reference.discount`), for the
side that learns in that env:

* principal envs: the exact Stackelberg optimum against the env's agent and the reference rules
  (best constant rule, the one-round optimal rule repeated, uniform weights), all from
  :mod:`stratgym.baselines.stateful`;
* agent envs: the exact best-response utility against the principal plan of each evaluation
  episode, and the myopic, forecasting and no-effort agents' utilities against the same plans.

Persuasion: the scheme env is scored against the signaling LP optimum, full revelation and no
information (:mod:`stratgym.baselines.signaling`, on the env's own regions); the repeated env against
the LP value per round times the rounds of an episode (the commitment benchmark: the env's receiver
learns rather than reasons, so this is not an upper bound), with the three schemes *played* against
the env's receiver on the evaluation episodes as baselines; the agent env against the exact posterior
best response played on the evaluation episodes (its expectation, ``env.evaluation.agent_value``, is
reported beside the baselines), with "always obey" and "always ignore" as baselines.

Values that depend on the episode (a plan or a rule drawn at reset) are averaged over the episodes
``seed .. seed + n_episodes - 1``, the very episodes :func:`stratgym.agents.evaluate.evaluate_policy`
plays with the same ``seed``, so learned and reference values are paired.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from stratgym.agents.evaluate import EVAL_SEED, evaluate_policy
from stratgym.agents.instances import make_env
from stratgym.baselines.signaling import full_revelation, no_information, optimal_scheme
from stratgym.baselines.stateful import best_constant_rule, repeated_one_round_rule, solve, uniform_weights
from stratgym.envs.persuasion import receiver_context
from stratgym.envs.stateful import PerRoundResponse
from stratgym.games._validation import as_positive_int
from stratgym.games.stateful import RESPONSE_MODELS, best_response, rollout


class NoExactReference(ValueError):
    """The env has a reference solver, but not for this configuration (e.g. a quantal or lookahead agent)."""


@dataclass(frozen=True)
class Reference:
    """Reference values of one env instance for its learning side.

    Attributes:
        env_id: the env.
        side: ``"principal"`` or ``"agent"``.
        optimum: the exact optimal expected return.
        baselines: baseline name -> expected return, in a fixed order.
        solver: what computed ``optimum``.
        discount: the discount the returns are summed with (1 except for discounted agents).
        solve_time: seconds spent computing these values.
        n_episodes: how many evaluation episodes the values average over (1 if they do not depend on them).
        optimum_name: what ``optimum`` is, for legends ("exact optimum" unless the env has none).
    """

    env_id: str
    side: str
    optimum: float
    baselines: dict[str, float] = field(default_factory=dict)
    solver: str = ""
    discount: float = 1.0
    solve_time: float = 0.0
    n_episodes: int = 1
    optimum_name: str = "exact optimum"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"env_id": self.env_id, "side": self.side, "optimum": self.optimum, "baselines": self.baselines,
                "solver": self.solver, "discount": self.discount, "solve_time": self.solve_time,
                "n_episodes": self.n_episodes, "optimum_name": self.optimum_name}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reference":
        """Inverse of :meth:`to_json`."""
        return cls(**data)


@dataclass(frozen=True)
class EnvReference:
    """How one env is scored.

    Attributes:
        side: who learns in it (``"principal"`` or ``"agent"``).
        description: one line for ``stratgym list``.
        solver: one line naming the reference solver.
        compute: ``compute(env, n_episodes, seed) -> (optimum, baselines, discount, episodes used)`` for an
            env instance built from the user's kwargs.
        optimum_name: what the optimum is ("exact optimum" unless the env has none).
    """

    side: str
    description: str
    solver: str
    compute: Callable[[gym.Env, int, int], tuple[float, dict[str, float], float, int]]
    optimum_name: str = "exact optimum"


# ---------------------------------------------------------------------------------------------
# Stateful game
# ---------------------------------------------------------------------------------------------

def _principal_values(game, model: str) -> tuple[float, dict[str, float]]:
    optimum = solve(game, model).principal_utility
    baselines = {"best constant rule": best_constant_rule(game, model).principal_utility,
                 "one-round rule repeated": repeated_one_round_rule(game, model).principal_utility,
                 "uniform rule": uniform_weights(game, model).principal_utility}
    return float(optimum), {name: float(value) for name, value in baselines.items()}


def _stateful_principal(env: gym.Env, n_episodes: int, seed: int):
    """Both stateful principal envs: the exact optimum against the env's agent, which must be one the solvers know
    (``"rational"``, or the game's own ``"myopic"`` / ``"forecasting"``)."""
    response_model = env.unwrapped.response_model
    if isinstance(response_model, str):  # the commitment env keeps "rational" as the string
        model = response_model
    elif type(response_model) is PerRoundResponse:
        model = response_model.model
    else:
        raise NoExactReference(f"exact references exist for the game's own response models {RESPONSE_MODELS} "
                               f"only, got {response_model!r}")
    optimum, baselines = _principal_values(env.unwrapped.game, model)
    return optimum, baselines, 1.0, 1


def _agent(env: gym.Env, n_episodes: int, seed: int):
    game = env.unwrapped.game
    models = {"optimum": "rational", "myopic agent": "myopic", "forecasting agent": "forecasting"}
    totals = dict.fromkeys([*models, "no effort"], 0.0)
    for episode in range(n_episodes):
        plan = env.reset(seed=seed + episode)[1]["theta"]
        for name, model in models.items():
            totals[name] += float(rollout(game, plan, best_response(game, plan, model).effort).agent_utility)
        totals["no effort"] += float(rollout(game, plan, np.zeros((game.horizon, game.n_efforts))).agent_utility)
    means = {name: total / n_episodes for name, total in totals.items()}
    return means.pop("optimum"), means, game.discount, n_episodes


# ---------------------------------------------------------------------------------------------
# Persuasion game
# ---------------------------------------------------------------------------------------------

class SchemePolicy:
    """A signaling scheme ``(R, A)`` played as a policy of ``PersuasionRecommend-v0``: recommend ``a ~ scheme[region]``.

    The region is read from the observation's one-hot block; draws come from ``rng``.
    """

    def __init__(self, scheme: np.ndarray, rng: np.random.Generator):
        self.cumulative, self.rng = np.cumsum(np.asarray(scheme, dtype=np.float64), axis=1), rng

    def __call__(self, observation) -> int:
        row = self.cumulative[int(np.argmax(observation[:self.cumulative.shape[0]]))]
        return int(min(np.searchsorted(row, self.rng.random() * row[-1], side="right"), row.size - 1))


def _signaling_values(regions) -> dict[str, Any]:
    return {"optimal signaling": optimal_scheme(regions), "full revelation": full_revelation(regions),
            "no information": no_information(regions)}


def _scheme(env: gym.Env, n_episodes: int, seed: int):
    if np.isfinite(env.unwrapped.agent_beta):
        raise NoExactReference(f"exact references exist for the exact Bayesian agent only (agent_beta=inf), got "
                               f"agent_beta={env.unwrapped.agent_beta}")
    results = _signaling_values(env.unwrapped.regions)
    optimum = results.pop("optimal signaling").principal_value
    return optimum, {name: float(result.principal_value) for name, result in results.items()}, 1.0, 1


def _recommend(env: gym.Env, n_episodes: int, seed: int):
    rounds = env.spec.max_episode_steps if env.spec is not None else None
    if rounds is None:
        raise ValueError("PersuasionRecommend-v0 needs a time limit (max_episode_steps) for its reference values")
    results = _signaling_values(env.unwrapped.regions)
    baselines = {f"{name} vs this receiver": evaluate_policy(SchemePolicy(result.scheme, np.random.default_rng(seed)),
                                                            env, n_episodes, seed).mean
                 for name, result in results.items()}
    return float(results["optimal signaling"].principal_value) * rounds, baselines, 1.0, n_episodes


def _persuasion_agent(env: gym.Env, n_episodes: int, seed: int):
    unwrapped = env.unwrapped
    responses = unwrapped.evaluation.responses
    default = receiver_context(unwrapped.game, unwrapped.regions, unwrapped.tie_tol).default_action
    actions = unwrapped.regions.n_actions
    policies = {"optimum": lambda obs: int(responses[int(np.argmax(obs[:actions]))]),
                "obey the recommendation": lambda obs: int(np.argmax(obs[:actions])),
                "ignore it (prior best response)": lambda obs: default}
    values = {name: evaluate_policy(policy, env, n_episodes, seed).mean for name, policy in policies.items()}
    # The optimum is a sample mean on the very episodes a learner is scored on (paired); its expectation is shown
    # beside it, since at recommendations where the agent is indifferent a learner's sample can beat the sample.
    values["best response, exact expectation"] = float(unwrapped.evaluation.agent_value)
    return values.pop("optimum"), values, 1.0, n_episodes


REFERENCES: dict[str, EnvReference] = {
    "stratgym/StatefulCommitment-v0": EnvReference(
        "principal", "stateful game: the principal commits to a whole assessment policy; a rational agent best-responds",
        "baselines.stateful.solve(game, response_model): exact MILP (rational) / per-round optimum (linear g)",
        _stateful_principal),
    "stratgym/StatefulPrincipal-v0": EnvReference(
        "principal", "stateful game, round by round: the principal publishes one rule per round to a myopic/forecasting agent",
        "baselines.stateful.solve(game, response_model): exact per-round optimum (linear g)", _stateful_principal),
    "stratgym/StatefulAgent-v0": EnvReference(
        "agent", "stateful game, round by round: the agent spends its effort budget against a principal plan",
        "games.stateful.best_response(game, plan, 'rational'): exact best response", _agent),
    "stratgym/PersuasionScheme-v0": EnvReference(
        "principal", "persuasion game: the principal commits to a signaling scheme; a Bayesian agent best-responds",
        "baselines.signaling.optimal_scheme(regions): exact signaling LP", _scheme),
    "stratgym/PersuasionRecommend-v0": EnvReference(
        "principal", "repeated persuasion: each round the principal sees the rule's region and recommends to a learning receiver",
        "signaling LP value per round x rounds (the commitment value; no exact optimum against a learning "
        "receiver, which a learner may exploit beyond it)", _recommend, "commitment value (LP x rounds)"),
    "stratgym/PersuasionAgent-v0": EnvReference(
        "agent", "persuasion game, agent side: hear a recommendation from a fixed scheme and act",
        "games.persuasion.evaluate_scheme(...).responses: exact posterior best response, played on the "
        "evaluation episodes", _persuasion_agent, "exact best response on these episodes"),
}


def env_reference(env_id: str) -> EnvReference:
    """The :class:`EnvReference` of ``env_id``; ``ValueError`` listing the known ids otherwise."""
    if env_id not in REFERENCES:
        raise ValueError(f"no reference solver for env {env_id!r}; known envs: {sorted(REFERENCES)}")
    return REFERENCES[env_id]


def reference_values(env_id: str, env_kwargs: dict | None = None, n_episodes: int = 10,
                     seed: int = EVAL_SEED) -> Reference:
    """Compute the :class:`Reference` of ``env_id`` built with ``env_kwargs`` (JSON scheme of :mod:`~stratgym.agents.instances`)."""
    entry = env_reference(env_id)
    n_episodes = as_positive_int(n_episodes, "n_episodes")
    start = time.perf_counter()
    env = make_env(env_id, env_kwargs)
    try:
        optimum, baselines, discount, used = entry.compute(env, n_episodes, int(seed))
    finally:
        env.close()
    return Reference(env_id=env_id, side=entry.side, optimum=float(optimum), baselines=baselines, solver=entry.solver,
                     discount=float(discount), solve_time=time.perf_counter() - start, n_episodes=used,
                     optimum_name=entry.optimum_name)
