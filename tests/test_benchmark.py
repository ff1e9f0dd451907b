"""The benchmark: planning, statistics, outputs, references, and resuming after a kill."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import stratgym  # noqa: F401
from stratgym.agents.benchmark import (
    SUITES,
    BenchmarkEnv,
    Suite,
    STALE_AFTER_S,
    adjust_suite,
    confidence_half_width,
    custom_suite,
    plan_benchmark,
    plan_runs,
    remaining_seconds,
    remove_stale_temporaries,
    run_benchmark,
)
from stratgym.agents.evaluate import EVAL_SEED, evaluate_policy
from stratgym.agents.instances import build_game
from stratgym.agents.references import REFERENCES, SchemePolicy, reference_values
from stratgym.agents.references.persuasion import receiver_bound
from stratgym.games.behaviour import Quantal
from stratgym.agents.train import load_model
from stratgym.baselines.signaling import optimal_scheme
from stratgym.baselines.stateful import solve
from stratgym.games.stateful import best_response, classroom, rollout

CLASSROOM_2 = {"game": {"name": "classroom", "horizon": 2}}


def test_confidence_half_width_matches_the_t_table():
    # Student t quantiles t_{0.975, 1} = 12.706 and t_{0.975, 4} = 2.776 (printed tables).
    assert confidence_half_width([1.0, 3.0]) == pytest.approx(12.706 * np.std([1.0, 3.0], ddof=1) / np.sqrt(2), rel=1e-4)
    values = [1.0, 2.0, 4.0, 4.5, 7.0]
    assert confidence_half_width(values) == pytest.approx(2.776 * np.std(values, ddof=1) / np.sqrt(5), rel=1e-3)
    assert np.isnan(confidence_half_width([2.0]))


def test_every_suite_is_well_formed():
    for name, suite in SUITES.items():
        # The random suite's spread is over instances (one seed each); the others spread over seeds.
        assert suite.name == name and len(suite.seeds) >= (1 if name == "random" else 2)
        labels = [env.label for env in suite.envs]
        assert len(set(labels)) == len(labels)
        runs = plan_runs(suite)
        assert len(runs) == sum(len(env.learners) for env in suite.envs) * len(suite.seeds)
        assert all(env.env_id in REFERENCES for env in suite.envs)
    assert {env.env_id for env in SUITES["quick"].envs} == set(REFERENCES), "the demo covers every env"


def test_plan_runs_budgets_and_learner_checks():
    suite = Suite("t", (BenchmarkEnv("a", "stratgym/StatefulCommitment-v0", CLASSROOM_2, ("ppo", "sac")),),
                  seeds=(0, 1), n_curve_points=4, timestep_scale=0.5)
    runs = plan_runs(suite)
    assert [r.key for r in runs] == ["a__ppo__seed0", "a__ppo__seed1", "a__sac__seed0", "a__sac__seed1"]
    assert all(r.name.startswith(r.key + "__") and len(r.name) == len(r.key) + 10 for r in runs)
    assert len({r.name for r in runs}) == 4
    file_budget = {r.learner: r.hyperparams["n_timesteps"] for r in runs}
    assert all(r.n_timesteps == round(file_budget[r.learner] * 0.5) for r in runs)
    assert all(r.eval_freq == r.n_timesteps // 4 for r in runs)
    with pytest.raises(ValueError, match="needs a Discrete"):
        plan_runs(adjust_suite(suite, learners=["dqn"]))
    with pytest.raises(ValueError, match="unique"):
        plan_runs(Suite("t", suite.envs * 2))
    with pytest.raises(ValueError, match="seeds"):
        custom_suite(["stratgym/StatefulCommitment-v0"], n_seeds=0)
    assert adjust_suite(SUITES["quick"], n_seeds=1, n_timesteps=99).seeds == (0,)
    assert all(env.n_timesteps == 99 for env in adjust_suite(SUITES["quick"], n_timesteps=99).envs)


def test_training_only_env_kwargs_train_but_never_score(tmp_path):
    game = {"game": {"name": "random", "seed": 3, "n_actions": 2, "prior": "finite"}}
    env = BenchmarkEnv("s", "stratgym/PersuasionScheme-v0", game, n_timesteps=64, n_eval_episodes=1,
                       train_env_kwargs={"reward": "penalized", "penalty_weight": 50.0})
    (spec,) = plan_runs(Suite("t", (env,), seeds=(0,)))
    assert spec.config()["train_env_kwargs"] == env.train_env_kwargs
    assert plan_runs(Suite("t", (replace(env, train_env_kwargs={}),), seeds=(0,)))[0].name != spec.name
    run_benchmark(Suite("t", (env,), seeds=(0,)), tmp_path, progress=False)
    record = json.loads((tmp_path / "runs" / spec.name / "record.json").read_text())
    model, meta = load_model(tmp_path / "runs" / spec.name)
    assert meta["env_kwargs"] == game | env.train_env_kwargs and meta["eval_env_kwargs"] == game
    scored = {kwargs["reward"]: evaluate_policy(model, env.env_id, 1, EVAL_SEED, env_kwargs=game | kwargs).mean
              for kwargs in ({"reward": "expected"}, env.train_env_kwargs)}
    assert scored["expected"] != scored["penalized"] and record["mean"] == pytest.approx(scored["expected"])


def test_references_match_the_solvers_and_the_episodes():
    game = classroom(horizon=2)
    reference = reference_values("stratgym/StatefulCommitment-v0", CLASSROOM_2)
    assert reference.optimum == pytest.approx(solve(game, "rational").principal_value) == pytest.approx(1.0)
    assert all(value <= reference.optimum + 1e-9 for value in reference.baselines.values())
    # Agent env with random plans: the optimum is the mean exact best-response utility over the very
    # plans the evaluation episodes draw.
    agent = reference_values("stratgym/StatefulAgent-v0", CLASSROOM_2, n_episodes=4, seed=7)
    env = gym.make("stratgym/StatefulAgent-v0", game=game)
    plans = [env.reset(seed=7 + i)[1]["theta"] for i in range(4)]
    expected = np.mean([rollout(game, p, best_response(game, p, "rational").effort).agent_utility for p in plans])
    assert agent.optimum == pytest.approx(expected) and agent.n_episodes == 4
    assert agent.baselines["no effort"] == 0.0
    assert agent.optimum >= max(agent.baselines.values()) - 1e-9
    with pytest.raises(ValueError, match="exact references"):
        reference_values("stratgym/StatefulPrincipal-v0", {"game": "classroom", "agent": Quantal(2.0, 2)})


def _records(out: Path) -> dict[str, tuple[int, str]]:
    return {p.parent.name: (p.stat().st_mtime_ns, p.read_text()) for p in (out / "runs").glob("*/record.json")}


def test_benchmark_writes_every_output_and_resumes(tmp_path):
    suite = custom_suite(["stratgym/StatefulCommitment-v0"], CLASSROOM_2, n_seeds=2, n_timesteps=256, n_eval_episodes=1)
    first = run_benchmark(suite, tmp_path, progress=False)
    assert (first.trained, first.resumed) == (2, 0)
    for name in ("summary.csv", "summary.json", "curves.csv", "references.csv", "curves.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0, name
    rows = list(csv.DictReader(open(tmp_path / "summary.csv")))
    assert len(rows) == 1 and float(rows[0]["optimum"]) == pytest.approx(1.0)
    records = [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").glob("*/record.json"))]
    assert float(rows[0]["learned_mean"]) == pytest.approx(np.mean([r["mean"] for r in records]))
    curve = list(csv.DictReader(open(tmp_path / "curves.csv")))
    assert [int(c["timesteps"]) for c in curve] == records[0]["curve"]["timesteps"]
    assert np.allclose([float(c["mean_return"]) for c in curve],
                       np.mean([r["curve"]["mean_returns"] for r in records], axis=0))
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| StatefulCommitment-v0 | principal | ppo |" in (tmp_path / "report.md").read_text()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "atomic writes leave no temporaries"
    before = _records(tmp_path)

    again = run_benchmark(suite, tmp_path, progress=False)
    assert (again.trained, again.resumed) == (0, 2)
    assert _records(tmp_path) == before
    changed = run_benchmark(adjust_suite(suite, n_timesteps=128), tmp_path, progress=False)
    assert (changed.trained, changed.resumed) == (2, 0), "a run of another configuration is not reused"
    after = _records(tmp_path)
    assert len(after) == 4 and {name: after[name] for name in before} == before, "nor is it deleted"
    back = run_benchmark(suite, tmp_path, progress=False)
    assert (back.trained, back.resumed) == (0, 2), "the first configuration's runs are still there to resume"
    low, high = (np.array([r["curve"]["mean_returns"] for r in records]).min(axis=0),
                 np.array([r["curve"]["mean_returns"] for r in records]).max(axis=0))
    curve = list(csv.DictReader(open(tmp_path / "curves.csv")))
    assert np.allclose([float(c["min_return"]) for c in curve], low)
    assert np.allclose([float(c["max_return"]) for c in curve], high)
    summary = json.loads((tmp_path / "summary.json").read_text())
    for made in [summary, records[0], json.loads((tmp_path / "runs" / records[0]["name"] / "meta.json").read_text())]:
        assert set(made["versions"]) == {"stratgym", "stable-baselines3", "torch", "gymnasium", "numpy", "scipy"}
        assert made["versions"]["scipy"] != "not installed" and made["command"] == sys.argv
    assert "Made with stratgym" in (tmp_path / "report.md").read_text()


def test_nothing_is_replaced_unless_asked(tmp_path):
    """--envs benchmarks with other env kwargs get their own folders; --overwrite retrains the identical runs."""
    first = custom_suite(["stratgym/StatefulCommitment-v0"], CLASSROOM_2, n_seeds=1, n_timesteps=64, n_eval_episodes=1)
    second = custom_suite(["stratgym/StatefulCommitment-v0"], {"game": {"name": "classroom", "horizon": 3}},
                          n_seeds=1, n_timesteps=64, n_eval_episodes=1)
    run_benchmark(first, tmp_path, progress=False)
    kept = _records(tmp_path)
    run_benchmark(second, tmp_path, progress=False)
    both = _records(tmp_path)
    assert len(both) == 2 and {name: both[name] for name in kept} == kept
    log = io.StringIO()
    redone = run_benchmark(first, tmp_path, progress=True, overwrite=True, stream=log)
    assert (redone.trained, redone.replaced, redone.resumed) == (1, 1, 0)
    (name,) = kept
    assert _records(tmp_path)[name] != kept[name] and "1 of them replacing a finished run" in log.getvalue()
    (tmp_path / "runs" / name / "record.json").write_text("{broken")
    with pytest.raises(ValueError, match="overwrite"):
        plan_benchmark(tmp_path, plan_runs(first))
    assert plan_benchmark(tmp_path, plan_runs(first), overwrite=True).replace == plan_runs(first)


def test_remaining_time_counts_only_trained_runs_weighted_by_budget():
    assert remaining_seconds([], [("ppo", 1000)]) is None  # nothing trained yet (resumed runs say nothing)
    assert remaining_seconds([("ppo", 1000, 10.0)], []) == 0.0
    trained = [("ppo", 1000, 10.0), ("sac", 1000, 90.0), ("ppo", 3000, 30.0)]
    # ppo: 40 s / 4000 steps; sac: 90 s / 1000 steps; td3 (not trained yet): 130 s / 5000 steps over all runs.
    expected = 500 * 40 / 4000 + 2000 * 90 / 1000 + 1000 * 130 / 5000
    assert remaining_seconds(trained, [("ppo", 500), ("sac", 2000), ("td3", 1000)]) == pytest.approx(expected)


def test_progress_off_a_terminal_is_a_few_lines_per_run(tmp_path):
    suite = custom_suite(["stratgym/StatefulCommitment-v0"], CLASSROOM_2, n_seeds=3, n_timesteps=512, n_eval_episodes=1)
    run_benchmark(replace(suite, seeds=(0,)), tmp_path, progress=False)
    log = io.StringIO()
    run_benchmark(suite, tmp_path, progress=True, stream=log)
    text = log.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and len(lines) <= 1 + 2 * (10 + 1)
    assert lines[0] == "3 runs: reusing 1 finished runs of an identical configuration, training 2"
    finished = [line for line in lines if line.startswith("[")]
    assert [line[:5] for line in finished] == ["[1/2]", "[2/2]"] and finished[-1].endswith("ETA 0 s")
    for done, total in re.findall(r"(\d+)/(\d+) steps", text.replace(",", "")):
        assert int(done) <= int(total) == 512


def test_recorded_budget_is_what_was_trained(tmp_path):
    # PPO trains whole rollouts of 4 envs x 64 steps: a budget of 100 trains 256 steps, and the table says so.
    suite = custom_suite(["stratgym/StatefulCommitment-v0"], CLASSROOM_2, n_seeds=1, n_timesteps=100, n_eval_episodes=1)
    run_benchmark(suite, tmp_path, progress=False)
    (row,) = csv.DictReader(open(tmp_path / "summary.csv"))
    assert (row["n_timesteps"], row["requested_timesteps"]) == ("256", "100")
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/record.json")]
    assert record["n_timesteps"] == 256 == record["curve"]["timesteps"][-1]
    assert "1 × 256 steps (budget 100" in (tmp_path / "report.md").read_text()


def test_only_temporaries_of_dead_processes_are_removed(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    live = tmp_path / f".tmp-a__ppo__seed0-{os.getpid()}"  # another benchmark writing to the same --out
    orphan = tmp_path / f".tmp-a__ppo__seed1-{dead}"
    ancient = tmp_path / f".tmp-a__ppo__seed2-{os.getpid()}"  # a reused PID: no live writer keeps one this long
    for folder in (live, orphan, ancient):
        folder.mkdir()
    old = time.time() - 2 * STALE_AFTER_S
    os.utime(ancient, (old, old))
    remove_stale_temporaries(tmp_path)
    assert live.exists() and not orphan.exists() and not ancient.exists()


def test_benchmark_resumes_after_being_killed(tmp_path):
    command = [sys.executable, "-m", "stratgym.cli", "benchmark", "--envs", "stratgym/StatefulCommitment-v0",
               "stratgym/StatefulAgent-v0", "--env-kwargs", json.dumps(CLASSROOM_2), "--seeds", "2", "--timesteps",
               "1024", "--eval-episodes", "1", "--out", str(tmp_path), "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not _records(tmp_path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    process.communicate()
    finished = _records(tmp_path)
    assert 1 <= len(finished) < 4, "the kill should land after the first run and before the last"

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _records(tmp_path)
    assert len(after) == 4, "no run is lost"
    assert {name: after[name] for name in finished} == finished, "finished runs are not redone"
    assert f"{4 - len(finished)} runs trained, {len(finished)} resumed" in done.stdout
    assert not list((tmp_path / "runs").glob(".tmp-*")), "the interrupted run's temporary folder is cleaned up"


def test_persuasion_references():

    scheme = reference_values("stratgym/PersuasionScheme-v0", {"game": {"name": "random", "seed": 5}})
    env = gym.make("stratgym/PersuasionScheme-v0", game=build_game("persuasion", {"name": "random", "seed": 5}))
    assert scheme.optimum == pytest.approx(optimal_scheme(env.unwrapped.regions).principal_value)
    assert scheme.optimum >= max(scheme.baselines.values()) - 1e-9  # the LP dominates both feasible schemes

    # Against the learning receiver: the trust bound, an upper bound; against another receiver: the commitment value
    # (LP value x rounds), which bounds nothing.
    recommend = reference_values("stratgym/PersuasionRecommend-v0", {}, n_episodes=2)
    assert recommend.optimum == pytest.approx(receiver_bound(gym.make("stratgym/PersuasionRecommend-v0")), abs=1e-12)
    assert recommend.upper_bound and recommend.optimum_name.startswith("trust bound")
    assert recommend.robust_optimum <= recommend.optimum
    quantal = reference_values("stratgym/PersuasionRecommend-v0", {"receiver": {"name": "quantal", "beta": 5.0}},
                               n_episodes=2)
    lp = optimal_scheme(gym.make("stratgym/PersuasionRecommend-v0").unwrapped.regions).principal_value
    assert quantal.optimum == pytest.approx(100 * lp) and quantal.optimum_name.startswith("commitment")
    assert not quantal.upper_bound

    # A BIC scheme is obeyed, so obeying is the best response; the reference is the exact expectation (the
    # optimum's currency), which the env's own evaluation of the scheme gives independently.
    agent = reference_values("stratgym/PersuasionAgent-v0", {"scheme": "optimal"}, n_episodes=2000)
    assert agent.score_basis == "exact"
    assert agent.optimum == pytest.approx(agent.baselines["obey the recommendation"], abs=1e-12)
    optimal = optimal_scheme(build_game("persuasion", "synthetic_credit")).scheme
    expected = gym.make("stratgym/PersuasionAgent-v0", scheme=optimal).unwrapped.evaluation.agent_value
    assert agent.optimum == pytest.approx(expected, abs=1e-9)

    rows = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    policy = SchemePolicy(rows, np.random.default_rng(0))
    draws = np.bincount([policy(np.array([1.0, 0.0, 0.0, 0.0, 0.0])) for _ in range(4000)], minlength=3) / 4000
    np.testing.assert_allclose(draws, rows[0], atol=0.032)
    assert {policy(np.array([0.0, 1.0, 0.0, 0.0, 0.0])) for _ in range(50)} == {0}


@pytest.mark.parametrize("env_id, kwargs", [("stratgym/StatefulPopulation-v0", {"population": "classroom_groups"}),
                                            ("stratgym/PersuasionPopulation-v0", {})])
def test_population_rows_report_the_social_metrics_of_the_learned_and_the_optimal_policy(tmp_path, env_id, kwargs):
    from stratgym.agents.instances import make_env
    from stratgym.agents.references.population import policy_metrics

    suite = custom_suite([env_id], kwargs, n_seeds=1, n_timesteps=128, n_eval_episodes=3)
    row = run_benchmark(suite, tmp_path, progress=False).rows[0]
    record = json.loads(next((tmp_path / "runs").glob("*/record.json")).read_text())
    model, _ = load_model(tmp_path / "runs" / record["name"])
    again = policy_metrics(model, make_env(env_id, kwargs), 3, EVAL_SEED)  # recomputed from the saved model
    assert row.metrics == pytest.approx(again, nan_ok=True) and "overall/recourse" in row.metrics
    reference = reference_values(env_id, kwargs, n_episodes=3)
    assert row.optimum_metrics == pytest.approx(reference.metrics, nan_ok=True)
    assert row.optimum_metrics["overall/principal"] == pytest.approx(row.optimum, rel=1e-6)
    written = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert {(r["policy"], r["metric"]) for r in written} == (
        {("learned", key) for key in row.metrics} | {("optimal", key) for key in row.optimum_metrics})
    report = (tmp_path / "report.md").read_text()
    assert "## Social metrics" in report and f"| {row.label} | ppo | optimal |" in report
    assert json.loads((tmp_path / "summary.json").read_text())["rows"][0]["optimum_metrics"]
