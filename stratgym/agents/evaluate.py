"""Evaluation of a policy over seeded episodes.

Episode ``i`` starts with ``env.reset(seed=seed + i)``, so an evaluation is reproducible and two
policies evaluated with the same ``seed`` face the same episodes (the same prior draws, the same
randomized responses). Returns are undiscounted sums of the env's rewards, the units the exact
optima are stated in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

import gymnasium as gym
import numpy as np

from stratgym.agents.instances import make_env
from stratgym.games._validation import as_positive_int

#: Seed of the first evaluation episode used by training curves, the benchmark and the CLI (kept apart
#: from the training envs' seeds, which start at the training seed).
EVAL_SEED = 10_000
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
        returns: ``(episodes,)`` the undiscounted return of each episode, in episode order.
    """

    mean: float
    stderr: float
    returns: np.ndarray

    @classmethod
    def from_returns(cls, returns) -> "Evaluation":
        """Summarize a non-empty sequence of episode returns."""
        returns = np.asarray(returns, dtype=np.float64)
        if returns.ndim != 1 or returns.size == 0:
            raise ValueError(f"returns must be a non-empty 1-d sequence, got shape {returns.shape}")
        stderr = float(returns.std(ddof=1) / np.sqrt(returns.size)) if returns.size > 1 else 0.0
        return cls(mean=float(returns.mean()), stderr=stderr, returns=returns)


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
