"""The entry point :func:`run_benchmark`: plan, train (here or on a backend), store and summarize a suite."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from stratgym.agents.benchmark.outputs import write_outputs
from stratgym.agents.benchmark.runs import (env_reference, evaluation_episodes, parallel_eta, plan_benchmark,
                                            plan_runs, remove_stale_temporaries, store_run, train_serially)
from stratgym.agents.benchmark.suites import Suite
from stratgym.agents.benchmark.summary import SummaryRow, mean_curves, summarize
from stratgym.agents.train import StepProgress


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s" if seconds >= 60 else f"{seconds:.0f} s"


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BenchmarkResult:
    """What :func:`run_benchmark` did: the table rows, how many runs were trained (``replaced`` of them replacing a
    finished run) vs resumed, the wall time."""

    rows: list[SummaryRow]
    trained: int
    resumed: int
    wall_time: float
    out: Path
    replaced: int = 0


def run_benchmark(suite: Suite, out: str | Path, progress: bool = True, overwrite: bool = False,
                  tensorboard: str | Path | None = None, stream=None, backend=None) -> BenchmarkResult:
    """Run (or resume) ``suite`` into ``out`` and write every output; see the module doc.

    Args:
        progress: report progress on ``stream`` (default stderr): which runs are reused and trained, and, on a
            terminal, a bar over the runs to train (ETA from the runs trained so far, weighted by budget) above a
            bar of the steps of the current run; otherwise plain lines: a few per run while it trains
            (:class:`~stratgym.agents.train.StepProgress`) and one when it ends, with the ETA.
        overwrite: retrain (and replace) finished runs of an identical configuration instead of reusing them.
        tensorboard: a folder for TensorBoard logs: one run per trained run, named as its folder, with the
            optimum, the baselines and learned/optimum beside SB3's scalars.
        backend: where runs train; ``None``: one after another in this process. Otherwise an object with
            ``slots`` (how many runs train at once), ``describe()`` (where, for the first progress line) and
            ``run(specs, references, tensorboard)``, an iterator of
            ``(spec, FinishedRun, seconds, where)`` in the order runs finish (``where``: text for the progress
            line), e.g. :class:`stratgym.agents.backends.RayBackend`. This process writes every result
            (:func:`store_run`), as each run finishes, so a worker needs no access to ``out``.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    stream = sys.stderr if stream is None else stream
    interactive = progress and stream.isatty()
    out = Path(out)
    runs_dir = out / "runs"
    specs = plan_runs(suite)
    plan = plan_benchmark(out, specs, overwrite)
    runs_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(runs_dir)
    references = {}
    for env in tqdm(suite.envs, desc="exact references", disable=not interactive, file=stream, leave=False):
        references[env.label] = env_reference(out, env, evaluation_episodes(suite, env))
    if progress:
        print(plan.describe() + ("" if backend is None else f"; {backend.describe()}"), file=stream, flush=True)
    records = dict(plan.reuse)
    timings: list[tuple[str, int, float]] = []
    pending = {spec.key: spec for spec in plan.train}
    slots = 1 if backend is None else backend.slots
    bar = tqdm(total=len(plan.train), desc="runs", file=stream, position=0, dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]") if interactive else None
    if backend is None:
        step_progress = (lambda spec: StepProgress(spec.name, stream, position=1, leave=False)) if progress else None
        finished = train_serially(plan.train, references, step_progress, tensorboard)
    else:
        finished = backend.run(plan.train, references, tensorboard)
    if bar is not None:
        bar.set_postfix_str("ETA unknown")
    for index, (spec, run, seconds, where) in enumerate(finished, 1):
        records[spec.key] = record = store_run(out, spec, run, overwrite)
        del pending[spec.key]
        timings.append((spec.learner, spec.n_timesteps, seconds))
        eta = parallel_eta(timings, [(s.learner, s.n_timesteps) for s in pending.values()], slots)
        if bar is not None:
            bar.update()
            bar.set_postfix_str(f"ETA {_duration(eta)}" if pending else "done")
        elif progress:
            print(f"[{index}/{len(plan.train)}] {spec.name}: trained {record['n_timesteps']:,} steps in "
                  f"{seconds:.1f} s{where}; ETA {_duration(eta)}", file=stream, flush=True)
    if bar is not None:
        bar.close()
    rows = summarize(suite, records, references)
    wall_time = time.perf_counter() - start
    write_outputs(out, suite, rows, mean_curves(suite, records), references, wall_time)
    return BenchmarkResult(rows, len(plan.train), len(plan.reuse), wall_time, out, len(plan.replace))
