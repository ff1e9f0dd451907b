"""Why PPO stops short on the ``random`` suite's ``StatefulCommitment-v0`` instances: the reward along the segment
from where PPO ends to the exact optimum, exact and smoothed by Gaussian action noise.

    python scripts/random_suite_landscape.py --out results/landscape            # the instances PPO misses
    python scripts/random_suite_landscape.py --seeds 46 --points 6 --out /tmp/l  # one instance, coarse

For each instance (``random_game(default_rng(seed), horizon=4, n_features=3, n_efforts=4)``) PPO is trained as the
suite trains it (packaged hyperparameters and budget, seed 0). The segment runs in action space from PPO's final
mean ``mu_L`` (clipped to the box) to the float32 encoding ``mu*`` of the optimal policy, ``mu(l) = (1 - l) mu_L +
l mu*``. At each point: the exact reward ``r(mu(l))``, and ``J_sigma(mu(l)) = E r(clip(mu(l) + sigma eps))``, the
objective a Gaussian policy of scale ``sigma`` climbs, for ``sigma`` = PPO's final per-coordinate scale, 0.1 and
0.3 (a Monte Carlo mean over ``--samples`` draws, common random numbers along the segment). Writes
``landscape.csv`` (one row per instance, sigma and point) and ``landscape.png`` (one panel per instance), atomically.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from stratgym.agents.instances import make_env
from stratgym.agents.random_suite import FAMILIES
from stratgym.agents.train import train
from stratgym.baselines.stateful import solve
from stratgym.envs.spaces import simplex_to_box
from stratgym.envs.stateful import StatefulCommitmentVectorEnv
from stratgym.figures import progress_bar, pyplot, save_png, write_csv

#: The commitment instances of the suite below 95% normalized (BENCHMARKS.md, 2026-12-04).
MISSED_SEEDS = (15, 46, 52, 57, 170, 171, 173)
#: Fixed noise scales besides PPO's own.
SIGMAS = (0.1, 0.3)


def segment_rewards(game, start: np.ndarray, end: np.ndarray, sigmas, points: int = 21, samples: int = 2048,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(l (points,), exact (points,), smoothed (len(sigmas), points))`` of ``StatefulCommitment-v0`` on ``game``
    along ``mu(l) = (1 - l) start + l end`` (actions ``(T, n)`` in the box); ``smoothed[i]`` is the mean reward of
    ``clip(mu(l) + sigmas[i] eps)`` over ``samples`` standard normal ``eps`` (the same draws at every point);
    ``sigmas[i]`` is a number or one scale per action entry ``(T, n)``."""
    envs = StatefulCommitmentVectorEnv(num_envs=samples, game=game, autoreset_mode=AutoresetMode.SAME_STEP)
    envs.reset(seed=seed)
    noise = np.random.default_rng(seed).standard_normal((samples,) + start.shape)

    def rewards(actions: np.ndarray) -> np.ndarray:
        return envs.step(np.clip(actions, -1.0, 1.0).astype(np.float32))[1]

    lambdas = np.linspace(0.0, 1.0, points)
    exact = np.empty(points)
    smoothed = np.empty((len(sigmas), points))
    for j, lam in enumerate(lambdas):
        mu = (1.0 - lam) * start + lam * end
        exact[j] = rewards(np.broadcast_to(mu, (samples,) + mu.shape))[0]
        for i, sigma in enumerate(sigmas):
            smoothed[i, j] = rewards(mu + np.asarray(sigma) * noise).mean()
    envs.close()
    return lambdas, exact, smoothed


def ppo_endpoint(seed: int) -> tuple[object, np.ndarray, np.ndarray]:
    """``(game, mean (T, n), scale (T, n))``: the commitment instance ``seed`` and PPO's final Gaussian policy on it,
    trained as the random suite trains it."""
    family = FAMILIES["commitment"]
    kwargs = family.instance_kwargs(seed)
    env = make_env(family.env_id, kwargs)
    result = train(family.env_id, "ppo", 0, env_kwargs=kwargs, progress_bar=False)
    observation, _ = env.reset(seed=0)
    with torch.no_grad():
        distribution = result.model.policy.get_distribution(torch.as_tensor(observation[None])).distribution
    shape = env.action_space.shape
    mean = distribution.mean.numpy().reshape(shape).astype(np.float64)
    scale = distribution.stddev.numpy().reshape(shape).astype(np.float64)
    return env.unwrapped.game, mean, scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(MISSED_SEEDS), help="commitment instance seeds")
    parser.add_argument("--points", type=int, default=21, help="points along each segment")
    parser.add_argument("--samples", type=int, default=2048, help="noise draws per point")
    parser.add_argument("--out", type=Path, default=Path("results/landscape"), help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    rows, panels = [], []
    for seed in progress_bar(args.seeds, "instances", not args.no_progress):
        game, mean, scale = ppo_endpoint(seed)
        optimal = solve(game).theta
        end = simplex_to_box(optimal).astype(np.float64)
        names = ("ppo",) + tuple(f"{sigma:g}" for sigma in SIGMAS)
        lambdas, exact, smoothed = segment_rewards(game, np.clip(mean, -1.0, 1.0), end, (scale,) + SIGMAS,
                                                   args.points, args.samples)
        for j, lam in enumerate(lambdas):
            rows.append([seed, "exact", "", lam, exact[j]])
            for name, values in zip(names, smoothed):
                rows.append([seed, "smoothed", name, lam, values[j]])
        panels.append((seed, lambdas, exact, dict(zip(names, smoothed)), float(scale.min()), float(scale.max())))
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "landscape.csv", ["seed", "kind", "sigma", "lambda", "reward"], rows)
    plt = pyplot()
    figure, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0), squeeze=False,
                               layout="constrained")
    for axis, (seed, lambdas, exact, smoothed, low, high) in zip(axes[0], panels):
        axis.plot(lambdas, exact, "k-", label="exact")
        for name, values in smoothed.items():
            axis.plot(lambdas, values, "--", label="sigma = PPO's" if name == "ppo" else f"sigma = {name}")
        axis.set_title(f"commitment-s{seed}\nPPO's sigma {low:.2f}-{high:.2f}", fontsize=9)
    axes[0][0].set_ylabel("principal reward")
    axes[0][0].legend(fontsize=6)
    figure.supxlabel("l: from PPO's final mean (0) to the optimum (1)")
    save_png(figure, args.out / "landscape.png")
    print(f"wrote {args.out / 'landscape.csv'} and {args.out / 'landscape.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
