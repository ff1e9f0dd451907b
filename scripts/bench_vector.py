"""Benchmark the native vector envs: steps/s against Gymnasium's CartPoleVectorEnv at the same batch size, and the
env's share of SB3 PPO's wall time against CartPole's.

    python scripts/bench_vector.py            # full run (a few minutes), prints a Markdown report
    python scripts/bench_vector.py --write    # ... and replaces its section of BENCHMARKS.md
    python scripts/bench_vector.py --quick    # smoke run (under a minute)
    python scripts/bench_vector.py --speed-only --env Persuasion --batch 1024 --batch 4096   # part of the speed table

Targets (reported as met / NOT met, never adjusted): every registered env's native vector env (default instance,
default autoreset NEXT_STEP) at least 0.5x CartPoleVectorEnv's steps/s (per sub-env step) at batch 64, 1024 and
4096, measured interleaved in the same run; inside PPO (8 envs) the env's share of the wall time no larger than
CartPole's (through SB3's make_vec_env, as SB3 users run it).
"""

from __future__ import annotations

import time

import gymnasium as gym

import stratgym  # noqa: F401  (registers the envs)
from _bench_common import (EnvSpec, common_arguments, env_speeds, machine_description, markdown_table, progress_bar,
                           publish, verdict)

SECTION = "bench_vector"
RATIO_TARGET = 0.5
REFERENCE_VECTOR = "CartPole-v1"
ENV_IDS = sorted(env_id for env_id in gym.registry if env_id.startswith("stratgym/"))


FULL = {"batches": (64, 1024, 4096), "repeats": 5, "min_time": 1.0, "n_actions": 8,
        "ppo_envs": 8, "ppo_steps": 256, "ppo_timesteps": 8192}
QUICK = {"batches": (64, 512), "repeats": 2, "min_time": 0.1, "n_actions": 4,
         "ppo_envs": 4, "ppo_steps": 64, "ppo_timesteps": 512}


def _native(env_id: str, num_envs: int):
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")


def speed_section(settings: dict, progress: bool, env_ids: list[str] = ENV_IDS) -> tuple[str, bool]:
    """Steps/s per sub-env of the native vector envs of ``env_ids`` and of CartPoleVectorEnv, per batch size;
    whether every ratio meets the target."""
    rows, met = [], True
    for batch in settings["batches"]:
        specs = [EnvSpec(f"{env_id} ×{batch}", lambda env_id=env_id: _native(env_id, batch), vector=True)
                 for env_id in env_ids]
        reference = EnvSpec(f"CartPoleVectorEnv ×{batch}", lambda: _native(REFERENCE_VECTOR, batch), vector=True)
        cartpole, results = env_speeds(specs, settings["repeats"], settings["min_time"], progress, reference,
                                       settings["n_actions"])
        for env_id, row in zip(env_ids, results):
            met &= row["ratio"] >= RATIO_TARGET
            rows.append((batch, f"`{env_id}`", f"{row['steps_per_second']:,.0f}", f"{cartpole:,.0f}",
                         f"{row['ratio']:.2f}×", verdict(row["ratio"] >= RATIO_TARGET)))
    text = ("### Native vector envs vs `CartPoleVectorEnv`\n\n"
            f"Default instances, autoreset `NEXT_STEP` (as `CartPoleVectorEnv`), {settings['n_actions']} pre-sampled "
            f"action batches cycled, steps counted per sub-env, median of {settings['repeats']} interleaved repeats of "
            f"≥ {settings['min_time']:g} s; CartPole measured in the same run at the same batch size.\n\n"
            + markdown_table(("batch", "env", "steps/s", "CartPoleVectorEnv steps/s", "ratio",
                              f"target ≥ {RATIO_TARGET:g}×"), rows))
    return text, met


def _timed(vec_env):
    """``vec_env`` inside an SB3 VecEnvWrapper that adds up the seconds spent in ``reset`` and ``step_wait``."""
    from stable_baselines3.common.vec_env import VecEnvWrapper

    class Timed(VecEnvWrapper):
        seconds = 0.0

        def reset(self):
            start = time.perf_counter()
            obs = self.venv.reset()
            Timed.seconds += time.perf_counter() - start
            return obs

        def step_wait(self):
            start = time.perf_counter()
            result = self.venv.step_wait()
            Timed.seconds += time.perf_counter() - start
            return result

    return Timed(vec_env)


def _ppo_share(make_vec_env, settings: dict) -> tuple[float, float]:
    """``(env seconds / learn seconds, learn seconds)`` of a PPO learn on ``make_vec_env()``."""
    import torch
    from stable_baselines3 import PPO

    from stratgym.agents.train import quiet_logger

    torch.set_num_threads(1)  # as stratgym.agents.train
    vec_env = _timed(make_vec_env())
    model = PPO("MlpPolicy", vec_env, n_steps=settings["ppo_steps"], seed=0, device="cpu")  # batch 64, 10 epochs
    model.set_logger(quiet_logger())
    start = time.perf_counter()
    model.learn(settings["ppo_timesteps"])
    total = time.perf_counter() - start
    share = type(vec_env).seconds / total
    vec_env.close()
    return share, total


def ppo_section(settings: dict, progress: bool) -> tuple[str, bool]:
    """The env's share of PPO's wall time: every env through the native adapter and through SB3's make_vec_env, and
    CartPole through make_vec_env; whether every native share is at most CartPole's."""
    from stable_baselines3.common.env_util import make_vec_env

    from stratgym.agents.vec import native_vec_env

    n = settings["ppo_envs"]
    runs = [("`CartPole-v1`", "make_vec_env (DummyVecEnv)", lambda: make_vec_env(REFERENCE_VECTOR, n_envs=n, seed=0))]
    for env_id in ENV_IDS:
        runs.append((f"`{env_id}`", "native (stratgym.agents.vec)",
                     lambda env_id=env_id: native_vec_env(env_id, n, seed=0)))
        runs.append((f"`{env_id}`", "make_vec_env (DummyVecEnv)",
                     lambda env_id=env_id: make_vec_env(env_id, n_envs=n, seed=0)))
    results = []
    with progress_bar(len(runs), "PPO env share", progress) as bar:
        for label, path, make in runs:
            results.append((label, path) + _ppo_share(make, settings))
            bar.update()
    cartpole = results[0][2]
    met = all(share <= cartpole for _, path, share, _ in results if path.startswith("native"))
    rows = [(label, path, f"{share:.1%}", f"{total:.2f} s",
             "—" if label == "`CartPole-v1`" or not path.startswith("native") else verdict(share <= cartpole))
            for label, path, share, total in results]
    text = ("### Env share of PPO wall time\n\n"
            f"SB3 PPO with its defaults (`MlpPolicy`, batch 64, 10 epochs) but {n} envs and "
            f"`n_steps={settings['ppo_steps']}`, {settings['ppo_timesteps']} timesteps, one torch thread; the env's "
            "share is the time spent in the VecEnv's `reset` and `step_wait` (wrappers included) over the time of "
            "`learn`.\n\n"
            + markdown_table(("env", "vec env", "env share", "learn time", "target ≤ CartPole's"), rows))
    return text, met


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the Markdown report, and with ``--write`` update BENCHMARKS.md; returns 0."""
    parser = common_arguments(__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", default=[], metavar="TEXT",
                        help="time only the env ids containing TEXT (repeatable; a partial run cannot --write)")
    parser.add_argument("--batch", action="append", type=int, default=[], metavar="N",
                        help="time only at batch size N (repeatable; a partial run cannot --write)")
    parser.add_argument("--speed-only", action="store_true", help="skip the PPO section (cannot --write)")
    args = parser.parse_args(argv)
    partial = bool(args.env or args.batch or args.speed_only)
    if partial and args.write:
        parser.error("--write needs the full run (no --env, --batch or --speed-only)")
    settings = dict(QUICK if args.quick else FULL)
    if args.batch:
        settings["batches"] = tuple(args.batch)
    env_ids = [env_id for env_id in ENV_IDS if not args.env or any(text in env_id for text in args.env)]
    if not env_ids:
        parser.error(f"no registered env id contains any of {args.env}")
    progress = not args.no_progress
    header = machine_description()
    speed_text, speed_met = speed_section(settings, progress, env_ids)
    batches = ", ".join(str(batch) for batch in settings["batches"])
    parts = [f"## Native vector envs{' (quick smoke run)' if args.quick else ''}", header, speed_text]
    target = f"Targets: every native vector env ≥ {RATIO_TARGET:g}× CartPoleVectorEnv at batch {batches} — " \
             f"{verdict(speed_met)}"
    if args.speed_only:
        parts.append(target + ".")
    else:
        ppo_text, ppo_met = ppo_section(settings, progress)
        parts += [ppo_text, f"{target}; env share of PPO no larger than CartPole's — {verdict(ppo_met)}."]
    publish(parts, SECTION, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
