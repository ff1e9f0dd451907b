"""What the two benchmark scripts share: timing, env speed relative to CartPole-v1, machine description,
Markdown tables and the atomic update of a script's section of BENCHMARKS.md.

Imported by ``bench_stateful.py`` and ``bench_persuasion.py`` (their folder is first on ``sys.path`` when they
run as scripts).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import gymnasium as gym

from stratgym.io import write_atomic

#: BENCHMARKS.md at the root of the source tree.
BENCHMARKS_PATH = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
#: The reference env every env speed is divided by.
REFERENCE_ENV = "CartPole-v1"
#: Pre-sampled actions per env; the timing loop cycles through them.
N_ACTIONS = 1024


def common_arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the options both benchmark scripts take: ``--quick``, ``--write``, ``--no-progress``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes and few repeats (seconds)")
    parser.add_argument("--write", action="store_true", help="replace this script's section of BENCHMARKS.md")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def progress_bar(total: int, description: str, enabled: bool):
    """A tqdm bar on stderr (stdout carries the Markdown)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, disable=not enabled, leave=False, file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

def time_call(function: Callable[[], object], repeats: int) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``function``, one entry per call."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    """The median (mean of the two middle values for an even count)."""
    return float(statistics.median(values))


@dataclass
class EnvSpec:
    """An env to time: ``label``, how to build it, and whether it is a vector env (then steps count per sub-env)."""

    label: str
    make: Callable[[], gym.Env | gym.vector.VectorEnv]
    vector: bool = False


def steps_per_second(env, actions: list, vector: bool, min_time: float) -> float:
    """Env steps per second over at least ``min_time`` seconds, cycling through ``actions``.

    Scalar envs are reset inside the timed loop whenever an episode ends (resets count as part of the cost);
    native vector envs reset their sub-envs themselves (autoreset). Steps of a vector env count once per sub-env.
    """
    env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while True:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if not vector and (terminated or truncated):
                env.reset()
        steps += len(actions)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return steps * (env.num_envs if vector else 1) / elapsed


def env_speeds(specs: Sequence[EnvSpec], repeats: int, min_time: float, progress: bool,
               reference: EnvSpec | None = None, n_actions: int = N_ACTIONS) -> tuple[float, list[dict]]:
    """Median steps/s of the ``reference`` (default :data:`REFERENCE_ENV` through ``gym.make``) and of every spec,
    measured interleaved in the same run.

    Each env is built once (construction is not timed) through its ``make``; ``n_actions`` actions are
    pre-sampled from its action space (seeded). Every repeat measures the reference and then every spec, so
    load changes on a shared machine hit all of them alike. Returns ``(reference steps/s, rows)``, rows with
    ``label``, ``vector``, ``steps_per_second`` (median over repeats) and ``ratio`` (to the reference median).
    """
    reference = reference or EnvSpec(REFERENCE_ENV, lambda: gym.make(REFERENCE_ENV))
    everything = [reference] + list(specs)
    envs, actions = [], []
    for spec in everything:
        env = spec.make()
        env.action_space.seed(0)
        envs.append(env)
        actions.append([env.action_space.sample() for _ in range(n_actions)])
    samples: list[list[float]] = [[] for _ in everything]
    with progress_bar(repeats * len(everything), "env speed", progress) as bar:
        for _ in range(repeats):
            for k, (spec, env) in enumerate(zip(everything, envs)):
                samples[k].append(steps_per_second(env, actions[k], spec.vector, min_time))
                bar.update()
    for env in envs:
        env.close()
    reference = median(samples[0])
    rows = [{"label": spec.label, "vector": spec.vector, "steps_per_second": median(values),
             "ratio": median(values) / reference} for spec, values in zip(everything[1:], samples[1:])]
    return reference, rows


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (Linux), else ``platform.processor()`` or ``"unknown"``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_description() -> str:
    """One Markdown paragraph: date, platform, CPU, cores, load, Python and library versions."""
    import numpy
    import scipy

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Run {date} on {platform.platform()}, CPU {cpu_model()}, {os.cpu_count()} logical cores "
            f"(load average {load} at the start); Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"scipy {scipy.__version__}, gymnasium {gym.__version__}.")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table; cells are formatted with ``str``."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def seconds(value: float) -> str:
    """A duration for a table: ms below one second, else seconds, three significant digits."""
    return f"{value * 1e3:.3g} ms" if value < 1.0 else f"{value:.3g} s"


def verdict(met: bool) -> str:
    """``met`` / ``NOT met`` for a target column."""
    return "met" if met else "**NOT met**"


def env_speed_table(reference: float, rows: Sequence[dict], target_ratio: float) -> str:
    """The env speed rows as Markdown: scalar envs against ``target_ratio``, vector envs (per sub-env step) apart."""
    table = []
    for row in rows:
        kind = "native vector env, per sub-env step" if row["vector"] else "scalar (`gym.make`)"
        target = "—" if row["vector"] else f"≥ {target_ratio:g}×: {verdict(row['ratio'] >= target_ratio)}"
        table.append((f"`{row['label']}`", kind, f"{row['steps_per_second']:,.0f}", f"{row['ratio']:.2f}×", target))
    return (markdown_table(("env", "kind", "steps/s (median)", f"× {REFERENCE_ENV}", "target"), table)
            + f"\n\n`{REFERENCE_ENV}` in the same run: {reference:,.0f} steps/s (median).")


def update_section(name: str, body: str, path: Path = BENCHMARKS_PATH) -> Path:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``path`` with ``body``
    (atomically); the section is appended if the markers are missing, and the file created if it is."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    return write_atomic(path, text)


def publish(parts: Sequence[str], section: str, write: bool) -> None:
    """Print the report made of ``parts`` and, if ``write``, replace its ``section`` of BENCHMARKS.md."""
    report = "\n\n".join(parts)
    print(report)
    if write:
        print(f"\nwrote {update_section(section, report)}")
