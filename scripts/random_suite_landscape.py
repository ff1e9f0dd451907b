"""Why PPO stops short on the ``random`` suite's one-step principal envs (``StatefulCommitment-v0``,
``PersuasionScheme-v0``): the reward along the segment from where PPO ends to the exact optimum, exact and smoothed by
Gaussian action noise.

    python scripts/random_suite_landscape.py --out results/landscape                  # the commitment instances PPO misses
    python scripts/random_suite_landscape.py --family scheme --out results/landscape  # ... the scheme ones
    python scripts/random_suite_landscape.py --seeds 46 --points 6 --out /tmp/l        # one instance, coarse

For each instance PPO is trained as the suite trains it (packaged hyperparameters and budget, the suite's training
kwargs, seed 0). The segment runs in action space from PPO's final mean ``mu_L`` (clipped to the box) to the float32
encoding ``mu*`` of the optimal policy or scheme, ``mu(l) = (1 - l) mu_L + l mu*``. At each point: the exact reward
``r(mu(l))`` the suite scores, and ``J_sigma(mu(l)) = E r_train(clip(mu(l) + sigma eps))``, the objective a Gaussian
policy of scale ``sigma`` climbs on the training reward (the scheme family's is penalized), for ``sigma`` = PPO's
final per-coordinate scale, 0.1 and 0.3 (a Monte Carlo mean over ``--samples`` draws, common random numbers along the
segment). Writes ``landscape-<family>.csv`` (one row per instance, sigma and point) and ``landscape-<family>.png``
(one panel per instance), atomically.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from stratgym.agents.instances import make_env, resolve_env_kwargs
from stratgym.agents.random_suite import FAMILIES, train_env_kwargs
from stratgym.agents.train import train
from stratgym.baselines.signaling import optimal_scheme
from stratgym.baselines.stateful import solve
from stratgym.envs.spaces import simplex_to_box
from stratgym.figures import progress_bar, pyplot, save_png, write_csv

#: Per family: the suite's instances below 95% normalized (BENCHMARKS.md, 2026-12-04).
MISSED_SEEDS = {"commitment": (15, 46, 52, 57, 170, 171, 173), "scheme": (4, 7, 11, 12)}
#: Per family: the optimum's simplex rows ``(T, n)`` or ``(R, A)`` of an env's instance.
OPTIMAL_ROWS = {"commitment": lambda env: solve(env.unwrapped.game).theta,
                "scheme": lambda env: optimal_scheme(env.unwrapped.regions).scheme}
#: Fixed noise scales besides PPO's own.
SIGMAS = (0.1, 0.3)


def native_envs(env_id: str, env_kwargs: dict, num_envs: int) -> gym.vector.VectorEnv:
    """The native vector env of ``env_id`` with ``env_kwargs`` (JSON-style, as the suite's), autoreset ``SAME_STEP``
    (so that every step of a one-step env is played)."""
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
                        autoreset_mode=AutoresetMode.SAME_STEP, **resolve_env_kwargs(env_id, env_kwargs))


def segment_rewards(make_envs, start: np.ndarray, end: np.ndarray, sigmas, points: int = 21, samples: int = 2048,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(l (points,), rewards (1 + len(sigmas), points))`` of a one-step env along ``mu(l) = (1 - l) start + l end``
    (actions in the box): ``rewards[0]`` the reward of ``mu(l)`` itself, ``rewards[1 + i]`` the mean reward of
    ``clip(mu(l) + sigmas[i] eps)`` over ``samples`` standard normal ``eps`` (the same draws at every point);
    ``sigmas[i]`` is a number or one scale per action entry. ``make_envs(n)`` returns ``n`` sub-envs of the env
    (``SAME_STEP``)."""
    envs = make_envs(samples)
    envs.reset(seed=seed)
    noise = np.random.default_rng(seed).standard_normal((samples,) + start.shape)

    def rewards(actions: np.ndarray) -> np.ndarray:
        return envs.step(np.clip(actions, -1.0, 1.0).astype(np.float32))[1]

    lambdas = np.linspace(0.0, 1.0, points)
    values = np.empty((1 + len(sigmas), points))
    for j, lam in enumerate(lambdas):
        mu = (1.0 - lam) * start + lam * end
        values[0, j] = rewards(np.broadcast_to(mu, (samples,) + mu.shape))[0]
        for i, sigma in enumerate(sigmas):
            values[1 + i, j] = rewards(mu + np.asarray(sigma) * noise).mean()
    envs.close()
    return lambdas, values


def ppo_endpoint(family_name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` (action-shaped): PPO's final Gaussian policy on instance ``seed`` of the random suite's
    family ``family_name``, trained as the suite trains it."""
    family = FAMILIES[family_name]
    kwargs = family.instance_kwargs(seed)
    env = make_env(family.env_id, kwargs)
    result = train(family.env_id, "ppo", 0, env_kwargs={**kwargs, **train_env_kwargs(family_name, seed)},
                   eval_env_kwargs=kwargs, progress_bar=False)
    observation, _ = env.reset(seed=0)
    with torch.no_grad():
        distribution = result.model.policy.get_distribution(torch.as_tensor(observation[None])).distribution
    shape = env.action_space.shape
    return (distribution.mean.numpy().reshape(shape).astype(np.float64),
            distribution.stddev.numpy().reshape(shape).astype(np.float64))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=sorted(MISSED_SEEDS), default="commitment", help="random-suite family")
    parser.add_argument("--seeds", type=int, nargs="+", help="instance seeds (default: the family's missed ones)")
    parser.add_argument("--points", type=int, default=21, help="points along each segment")
    parser.add_argument("--samples", type=int, default=2048, help="noise draws per point")
    parser.add_argument("--out", type=Path, default=Path("results/landscape"), help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    family = FAMILIES[args.family]
    names = ("exact", "ppo") + tuple(f"{sigma:g}" for sigma in SIGMAS)
    rows, panels = [], []
    for seed in progress_bar(args.seeds or MISSED_SEEDS[args.family], "instances", not args.no_progress):
        kwargs = family.instance_kwargs(seed)
        mean, scale = ppo_endpoint(args.family, seed)
        end = simplex_to_box(OPTIMAL_ROWS[args.family](make_env(family.env_id, kwargs))).astype(np.float64)
        start = np.clip(mean, -1.0, 1.0)
        training = {**kwargs, **train_env_kwargs(args.family, seed)}
        lambdas, exact = segment_rewards(lambda n: native_envs(family.env_id, kwargs, n), start, end, (),
                                         args.points, args.samples)
        _, smoothed = segment_rewards(lambda n: native_envs(family.env_id, training, n), start, end,
                                      (scale,) + SIGMAS, args.points, args.samples)
        values = np.vstack([exact, smoothed[1:]])
        for name, curve in zip(names, values):
            rows.extend([seed, name, lam, value] for lam, value in zip(lambdas, curve))
        panels.append((seed, lambdas, dict(zip(names, values)), float(scale.min()), float(scale.max())))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"landscape-{args.family}"
    write_csv(args.out / f"{stem}.csv", ["seed", "curve", "lambda", "reward"], rows)
    plt = pyplot()
    figure, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0), squeeze=False,
                                layout="constrained")
    for axis, (seed, lambdas, curves, low, high) in zip(axes[0], panels):
        for name, curve in curves.items():
            label = "exact (scored)" if name == "exact" else "sigma = PPO's" if name == "ppo" else f"sigma = {name}"
            axis.plot(lambdas, curve, "k-" if name == "exact" else "--", label=label)
        axis.set_title(f"{args.family}-s{seed}\nPPO's sigma {low:.2f}-{high:.2f}", fontsize=9)
    axes[0][0].set_ylabel("reward (smoothed: the training reward)")
    axes[0][0].legend(fontsize=6)
    figure.supxlabel("l: from PPO's final mean (0) to the optimum (1)")
    save_png(figure, args.out / f"{stem}.png")
    print(f"wrote {args.out / (stem + '.csv')} and {args.out / (stem + '.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
