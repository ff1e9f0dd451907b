"""The benchmark: learned principals and agents against the exact optima and the baselines.

For every (env instance, learner, seed) of a suite: train (:func:`stratgym.agents.train.train`),
evaluate on the seeded evaluation episodes, and for every env instance compute the reference values
(:mod:`stratgym.agents.references`). Outputs, in ``out``:

* ``runs/<env>__<learner>__seed<k>__<hash>/``: ``model.zip``, ``meta.json`` and ``record.json`` of each run,
  the folder keyed by a hash of the run's full configuration (``record.json`` holds the configuration itself);
* ``references/<env>.json``: the reference values of each env instance;
* ``summary.csv`` / ``summary.json``: one row per (env, learner): the normalized score (learned - uniform) /
  (optimum - uniform), the optimum, the robust optimum (strict incentives), the uniform policy's value, learned
  mean and 95% CI over seeds (Student t), learned/optimal, how learners were scored (exact expectation or sample
  mean, :func:`stratgym.agents.evaluate.score_policy`), whether a row is above its optimum (an error), each baseline;
* ``curves.csv`` + ``curves.png``: evaluation return vs timesteps (mean over seeds, and a band from the
  lowest to the highest seed) with the optimum and baselines as horizontal lines (their numbers in
  ``references.csv``);
* ``report.md``: any scoring error first, the table (normalized score first), the figure and the run times.

Resumable, and nothing is replaced unless asked: a finished run is written to a temporary folder
``runs/.tmp-<name>-<pid>`` and moved into place with ``os.replace`` once its record is written, so a killed
benchmark loses at most the run in progress; on the next start, finished runs of an identical configuration
are reused (and temporary folders left by dead processes removed). Runs of other configurations live in other
folders and are kept; ``overwrite=True`` retrains and replaces the identical ones. Every other file is written
atomically too (temporary file + ``os.replace``), so a reader never sees half a file. Records, ``meta.json``
and ``summary.json`` carry the package versions and the command line (:func:`stratgym.io.provenance`).

Runs train one after another in this process, or on a backend (:class:`stratgym.agents.backends.RayBackend`: Ray
tasks on this machine or a cluster) that returns each finished run (:func:`train_run`) for this process to write
(:func:`store_run`): the same folders, resuming and numbers either way.

Modules: ``suites`` (the named and custom suites), ``runs`` (run specs, training, storage, resuming, time left),
``summary`` (rows over seeds, curves, the table), ``outputs`` (the files and the figure), ``driver``
(:func:`run_benchmark`). Everything public is importable from ``stratgym.agents.benchmark``.
"""

from stratgym.agents.benchmark.driver import BenchmarkResult, run_benchmark
from stratgym.agents.benchmark.outputs import plot_curves, write_outputs
from stratgym.agents.benchmark.runs import (STALE_AFTER_S, BenchmarkPlan, FinishedRun, RunSpec, env_reference,
                                            evaluation_episodes, execute_run, finished_record, parallel_eta,
                                            plan_benchmark, plan_runs, remaining_seconds, remove_stale_temporaries,
                                            store_run, train_run, train_serially)
from stratgym.agents.benchmark.suites import (BOX_LEARNERS, DISCRETE_LEARNERS, SUITES, Suite, adjust_suite,
                                              custom_suite, describe_suites, suite_rows)
from stratgym.agents.benchmark.summary import (SummaryRow, confidence_half_width, mean_curves, scoring_errors,
                                               summarize, table_lines)
# Re-exported, as the single module did: the evaluation seeds, reference version and the suites' env settings.
from stratgym.agents.evaluate import EVAL_SEED
from stratgym.agents.random_suite import N_EVAL_EPISODES
from stratgym.agents.references import REFERENCE_VERSION
from stratgym.families.persuasion import SCHEME_TRAINING
from stratgym.families.stateful import RANDOM_STATEFUL
from stratgym.registry import BenchmarkEnv

__all__ = ["BOX_LEARNERS", "BenchmarkEnv", "BenchmarkPlan", "BenchmarkResult", "DISCRETE_LEARNERS", "EVAL_SEED",
           "FinishedRun", "N_EVAL_EPISODES", "RANDOM_STATEFUL", "REFERENCE_VERSION", "RunSpec", "SCHEME_TRAINING",
           "STALE_AFTER_S", "SUITES", "Suite", "SummaryRow", "adjust_suite", "confidence_half_width", "custom_suite",
           "describe_suites", "env_reference", "evaluation_episodes", "execute_run", "finished_record", "mean_curves",
           "parallel_eta", "plan_benchmark", "plan_runs", "plot_curves", "remaining_seconds",
           "remove_stale_temporaries", "run_benchmark", "scoring_errors", "store_run", "suite_rows", "summarize",
           "table_lines", "train_run", "train_serially", "write_outputs"]
