"""Evaluation of a policy over seeded episodes, and its score in the currency of the exact optima.

Episode ``i`` starts with ``env.reset(seed=seed + i)``, so an evaluation is reproducible and two
policies evaluated with the same ``seed`` face the same episodes (the same prior draws, the same
randomized responses). Returns are undiscounted sums of the env's rewards, the units the exact
optima are stated in.

:func:`score_policy` is what learners are scored with: a sample mean of returns is a noisy estimate of the
optimum's currency, the exact expectation, and can beat it (an indifferent agent's sample beats the optimum's
sample half the time). So a deterministic policy is scored by its exact expected return wherever the env
gives one (:func:`score_basis`):

* ``"exact"``: ``PersuasionAgent-v0`` (``sum_s pi_s sum_r q_s(r) u_A(s, policy(r))`` over the possible
  recommendations ``r``), ``PersuasionScheme-v0`` (the step's ``principal_value``, whatever its ``reward``),
  the stateful principal envs with the game's own (deterministic) response models and ``StatefulAgent-v0``
  with a fixed plan: one episode is the expectation;
* ``"exact per episode"``: ``StatefulAgent-v0`` with a drawn plan: each episode's return is exact given its
  plan, and the references average over the same plans (paired), so ``learned <= optimum`` episode by episode;
* ``"sampled"``: everything else (``PersuasionRecommend-v0``'s learning receiver, custom response models,
  stochastic policies): the mean over the evaluation episodes, with its standard error.

Any env can say so itself (how the envs of a new family plug in): an unwrapped env with a ``score_basis`` attribute
(one of :data:`SCORE_BASES`) is scored on that basis, and, when it is ``"exact"``, by its
``expected_return(act) -> float`` method if it has one (``act(observation) -> action`` is the deterministic policy),
else by one episode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Union

import gymnasium as gym
import numpy as np

from stratgym.agents.instances import make_env
from stratgym.envs.spaces import discrete_action
from stratgym.envs.persuasion import PersuasionAgentEnv, PersuasionSchemeEnv, recommendation_observation
from stratgym.envs.stateful import StatefulAgentEnv, StatefulCommitmentEnv, StatefulPrincipalEnv
from stratgym.games.behaviour import Lookahead, Rational
from stratgym.games.validation import as_positive_int

#: Seed of the first evaluation episode used by training curves, the benchmark and the CLI (kept apart
#: from the training envs' seeds, which start at the training seed).
EVAL_SEED = 10_000
#: How a score was computed (module doc).
SCORE_BASES = ("exact", "exact per episode", "sampled")
#: A policy: anything with SB3's ``predict(obs, deterministic=...)``, or a plain ``obs -> action`` callable.
Policy = Union[Any, Callable[[Any], Any]]
#: An environment: a registered id, a gymnasium Env, or a zero-argument factory returning one.
EnvSource = Union[str, gym.Env, Callable[[], gym.Env]]


@dataclass(frozen=True)
class Evaluation:
    """Per-episode returns of a policy and their summary.

    Attributes:
        mean: mean episode return.
        stderr: standard error of the mean (sample standard deviation / sqrt(episodes); 0 for one episode).
        returns: ``(episodes,)`` the undiscounted return of each episode, in episode order (one value, the
            expectation, for an ``"exact"`` score).
        basis: ``"exact"``, ``"exact per episode"`` or ``"sampled"`` (see the module doc).
    """

    mean: float
    stderr: float
    returns: np.ndarray
    basis: str = "sampled"

    @classmethod
    def from_returns(cls, returns, basis: str = "sampled") -> "Evaluation":
        """Summarize a non-empty sequence of episode returns."""
        returns = np.asarray(returns, dtype=np.float64)
        if returns.ndim != 1 or returns.size == 0:
            raise ValueError(f"returns must be a non-empty 1-d sequence, got shape {returns.shape}")
        if basis not in SCORE_BASES:
            raise ValueError(f"basis must be one of {SCORE_BASES}, got {basis!r}")
        stderr = float(returns.std(ddof=1) / np.sqrt(returns.size)) if returns.size > 1 else 0.0
        return cls(mean=float(returns.mean()), stderr=stderr, returns=returns, basis=basis)


def act(policy: Policy, observation, deterministic: bool = True):
    """One action of ``policy`` for one (unbatched) observation."""
    if hasattr(policy, "predict"):
        action, _ = policy.predict(observation, deterministic=deterministic)
        return action
    if callable(policy):
        return policy(observation)
    raise ValueError(f"policy must have a predict(obs, deterministic) method or be callable, got {type(policy).__name__}")


def evaluate_policy(policy: Policy, env: EnvSource, n_episodes: int = 10, seed: int = 0, deterministic: bool = True,
                    env_kwargs: dict | None = None, discount: float = 1.0) -> Evaluation:
    """Run ``policy`` for ``n_episodes`` seeded episodes of ``env`` and summarize the returns.

    ``env`` is a registered id (built with ``env_kwargs``, see :func:`stratgym.agents.instances.make_env`),
    an Env instance (used as is), or a factory. Episodes end at termination or truncation. The return
    of an episode is ``sum_k discount^k r_k`` (``discount = 1``: the plain sum; the stateful agent env's
    rewards summed with the game's ``gamma`` are the agent's utility ``U_A``).
    """
    n_episodes = as_positive_int(n_episodes, "n_episodes")
    if isinstance(discount, bool) or not isinstance(discount, (int, float)) or not 0.0 < discount <= 1.0:
        raise ValueError(f"discount must be a number in (0, 1], got {discount!r}")
    instance, owned = _instantiate(env, env_kwargs)
    try:
        returns = []
        for episode in range(n_episodes):
            observation, _ = instance.reset(seed=int(seed) + episode)
            total, weight, done = 0.0, 1.0, False
            while not done:
                observation, reward, terminated, truncated, _ = instance.step(act(policy, observation, deterministic))
                total += weight * float(reward)
                weight *= discount
                done = terminated or truncated
            returns.append(total)
    finally:
        if owned:
            instance.close()
    return Evaluation.from_returns(returns)


def score_basis(env: gym.Env, deterministic: bool = True) -> str:
    """How :func:`score_policy` scores a policy in ``env``: ``"exact"``, ``"exact per episode"`` or ``"sampled"``."""
    unwrapped = env.unwrapped
    if not deterministic:
        return "sampled"
    declared = getattr(unwrapped, "score_basis", None)
    if declared is not None:  # the env's own word (module doc)
        if declared not in SCORE_BASES:
            raise ValueError(f"{type(unwrapped).__name__}.score_basis must be one of {SCORE_BASES}, got {declared!r}")
        return declared
    if isinstance(unwrapped, (PersuasionAgentEnv, PersuasionSchemeEnv)):
        return "exact"
    if isinstance(unwrapped, (StatefulCommitmentEnv, StatefulPrincipalEnv)):
        # The game's own agents are deterministic and reset draws nothing; another model may use np_random.
        return "exact" if type(unwrapped.agent) in (Rational, Lookahead) else "sampled"
    if isinstance(unwrapped, StatefulAgentEnv):
        return "exact" if isinstance(unwrapped.principal, np.ndarray) else "exact per episode"
    return "sampled"


def score_policy(policy: Policy, env: EnvSource, n_episodes: int = 10, seed: int = 0, deterministic: bool = True,
                 env_kwargs: dict | None = None, discount: float = 1.0) -> Evaluation:
    """The score of ``policy`` in ``env`` in the currency of the exact optima (module doc), with its ``basis``.

    Arguments as :func:`evaluate_policy`. ``"exact"``: ``mean`` is the expected return, ``stderr`` 0, ``returns``
    that one value; otherwise :func:`evaluate_policy`'s result on episodes ``seed .. seed + n_episodes - 1``.
    """
    n_episodes = as_positive_int(n_episodes, "n_episodes")
    instance, owned = _instantiate(env, env_kwargs)
    try:
        basis = score_basis(instance, deterministic)
        unwrapped = instance.unwrapped
        if basis != "exact":
            return replace(evaluate_policy(policy, instance, n_episodes, seed, deterministic, discount=discount),
                           basis=basis)
        expected_return = getattr(unwrapped, "expected_return", None)
        if callable(expected_return):
            value = float(expected_return(lambda observation: act(policy, observation, deterministic)))
        elif isinstance(unwrapped, PersuasionAgentEnv):
            value = persuasion_agent_value(policy, unwrapped, deterministic)
        elif isinstance(unwrapped, PersuasionSchemeEnv):
            observation, _ = instance.reset(seed=int(seed))
            value = float(instance.step(act(policy, observation, deterministic))[4]["principal_value"])
        else:  # deterministic: one episode is the expectation
            value = evaluate_policy(policy, instance, 1, seed, deterministic, discount=discount).mean
    finally:
        if owned:
            instance.close()
    return Evaluation.from_returns([value], basis="exact")


def persuasion_agent_value(policy: Policy, env: PersuasionAgentEnv, deterministic: bool = True) -> float:
    """Exact expected ``u_A`` of ``policy`` in ``PersuasionAgent-v0``: ``sum_s pi_s sum_r q_s(r) u_A(s, a_r)`` with
    ``a_r`` the policy's action on recommendation ``r``'s observation (a deterministic policy)."""
    regions = env.regions
    joint = (regions.masses / regions.masses.sum())[:, None] * env.scheme  # P(region s, recommendation r)
    value = 0.0
    for recommendation in range(regions.n_actions):
        observation = recommendation_observation(env.game, recommendation)
        action = discrete_action(env.action_space, act(policy, observation, deterministic))
        value += float(joint[:, recommendation] @ regions.agent_payoffs[:, action])
    return value


def _instantiate(env: EnvSource, env_kwargs: dict | None) -> tuple[gym.Env, bool]:
    """The env to run and whether this module created it (and so must close it)."""
    if isinstance(env, gym.Env):
        if env_kwargs:
            raise ValueError("env_kwargs can only be given with an env id, not with an env instance")
        return env, False
    if isinstance(env, str):
        return make_env(env, env_kwargs), True
    if callable(env):
        instance = env()
        if not isinstance(instance, gym.Env):
            raise ValueError(f"env factory must return a gymnasium.Env, got {type(instance).__name__}")
        return instance, True
    raise ValueError(f"env must be an env id, a gymnasium.Env or a factory, got {type(env).__name__}")
