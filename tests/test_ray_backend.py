"""The Ray backend of the benchmark, on a real local Ray with 2 CPUs: the same folders, records, models and summary
as the serial backend, resuming across backends, overwrite, errors from workers, and the CLI flags."""

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from stratgym.agents.benchmark import BenchmarkEnv, Suite, parallel_eta, plan_runs, run_benchmark
from stratgym.agents.train import load_model
from stratgym.cli import main

ray = pytest.importorskip("ray")
from stratgym.agents.backends import RayBackend  # noqa: E402  (needs ray)

CLASSROOM_2 = {"game": {"name": "classroom", "horizon": 2}}
#: Two cheap envs, an on-policy and an off-policy learner (SAC's 640 steps include 140 of gradient updates, after
#: its 500 learning_starts), 2 seeds: four runs that two CPUs train two at a time.
SUITE = Suite("tiny", (BenchmarkEnv("commitment", "stratgym/StatefulCommitment-v0", CLASSROOM_2, ("ppo",), 256),
                       BenchmarkEnv("agent", "stratgym/StatefulAgent-v0", CLASSROOM_2, ("sac",), 640)),
              seeds=(0, 1), n_eval_episodes=2, n_curve_points=2)
#: Record fields that differ between two trainings of the same run: how long it took.
TIMING = {"wall_time"}


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray with 2 CPUs for the module (starting one takes seconds); backends use it as it is."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def _records(out: Path) -> dict[str, dict]:
    return {path.parent.name: json.loads(path.read_text()) for path in (out / "runs").glob("*/record.json")}


def test_ray_gives_the_serial_results_and_resumes_across_backends(local_ray, tmp_path_factory):
    """The tiny suite serially in this process and on the local Ray, into two folders: the same folders, records,
    models and summary; then resumed across the backends. One test, so that pytest-xdist never trains the suite
    twice, on two workers."""
    serial, parallel = tmp_path_factory.mktemp("serial"), tmp_path_factory.mktemp("ray")
    serial_result = run_benchmark(SUITE, serial, progress=False)
    with RayBackend() as backend:
        ray_result = run_benchmark(SUITE, parallel, progress=False, backend=backend)
    assert (serial_result.trained, ray_result.trained) == (4, 4)
    names = {spec.name for spec in plan_runs(SUITE)}
    for out in (serial, parallel):
        assert {path.name for path in (out / "runs").iterdir()} == names  # no temporary folder left behind
        assert all({path.name for path in (out / "runs" / name).iterdir()} == {"model.zip", "meta.json", "record.json"}
                   for name in names)
    serial_records, ray_records = _records(serial), _records(parallel)
    for name in names:
        one, other = serial_records[name], ray_records[name]
        assert {key: value for key, value in one.items() if key not in TIMING} == \
            {key: value for key, value in other.items() if key not in TIMING}, name
        one_model, one_meta = load_model(serial / "runs" / name)
        other_model, other_meta = load_model(parallel / "runs" / name)
        assert one_meta["config_hash"] == other_meta["config_hash"] and one_meta["curve"] == other_meta["curve"]
        one_parameters, other_parameters = one_model.policy.state_dict(), other_model.policy.state_dict()
        assert one_parameters.keys() == other_parameters.keys()
        assert all(torch.equal(one_parameters[key], other_parameters[key]) for key in one_parameters), name
    # Seeds give different models: equal models come from equal seeds, not from runs that ignore them.
    for env in SUITE.envs:
        seed0, seed1 = (load_model(serial / "runs" / spec.name)[0].policy.state_dict() for spec in plan_runs(SUITE)
                        if spec.env == env)
        assert not all(torch.equal(seed0[key], seed1[key]) for key in seed0), env.label
    serial_rows = [row.to_json() for row in serial_result.rows]
    ray_rows = [row.to_json() for row in ray_result.rows]
    assert [{k: v for k, v in row.items() if k != "train_time"} for row in serial_rows] == \
        [{k: v for k, v in row.items() if k != "train_time"} for row in ray_rows]
    summaries = [json.loads((out / "summary.json").read_text()) for out in (serial, parallel)]
    assert [[{k: v for k, v in row.items() if k != "train_time"} for row in summary["rows"]] for summary in summaries] \
        == [[{k: v for k, v in row.items() if k != "train_time"} for row in serial_rows]] * 2
    assert (serial / "curves.csv").read_text() == (parallel / "curves.csv").read_text()
    # Every run trained in a Ray worker (another process) with one torch thread.
    assert set(backend.workers) == {spec.key for spec in plan_runs(SUITE)}
    assert all(worker["pid"] != os.getpid() and worker["torch_threads"] == 1 for worker in backend.workers.values())
    _runs_resume_across_backends_and_overwrite_replaces_them(serial, parallel)


def _runs_resume_across_backends_and_overwrite_replaces_them(serial: Path, parallel: Path) -> None:
    before = {name: (parallel / "runs" / name / "record.json").stat().st_mtime_ns for name in _records(parallel)}
    with RayBackend() as backend:
        again = run_benchmark(SUITE, parallel, progress=False, backend=backend)
    assert (again.trained, again.resumed) == (0, 4) and not backend.workers
    # Folders the Ray backend wrote are finished runs for the serial backend, and the other way round.
    assert run_benchmark(SUITE, parallel, progress=False).resumed == 4
    with RayBackend() as backend:
        assert run_benchmark(SUITE, serial, progress=False, backend=backend).resumed == 4
    assert {name: (parallel / "runs" / name / "record.json").stat().st_mtime_ns for name in before} == before
    one_seed = replace(SUITE, envs=SUITE.envs[:1], seeds=(0,))
    with RayBackend() as backend:
        redone = run_benchmark(one_seed, parallel, progress=False, overwrite=True, backend=backend)
    (spec,) = plan_runs(one_seed)
    assert (redone.trained, redone.replaced, redone.resumed) == (1, 1, 0) and set(backend.workers) == {spec.key}
    assert (parallel / "runs" / spec.name / "record.json").stat().st_mtime_ns != before[spec.name]
    assert _records(parallel)[spec.name]["mean"] == _records(serial)[spec.name]["mean"]


def test_progress_is_one_line_per_finished_run_with_where_it_trained(local_ray, tmp_path):
    import io

    log = io.StringIO()
    suite = replace(SUITE, envs=SUITE.envs[:1])
    with RayBackend() as backend:
        run_benchmark(suite, tmp_path, progress=True, stream=log, backend=backend)
    lines = log.getvalue().splitlines()
    assert lines[0].endswith("training on the Ray already initialized in this process: 2 CPUs on 1 node(s), "
                             "one run per CPU")
    finished = [line for line in lines if line.startswith("[")]
    assert [line[:5] for line in finished] == ["[1/2]", "[2/2]"] and finished[-1].endswith("ETA 0 s")
    assert all(f"(pid {worker['pid']})" in log.getvalue() for worker in backend.workers.values())


def test_an_error_in_a_worker_is_raised_by_the_driver(local_ray, tmp_path):
    (spec,) = plan_runs(replace(SUITE, envs=SUITE.envs[:1], seeds=(0,)))
    broken = replace(spec, hyperparams=spec.hyperparams | {"policy": "NoSuchPolicy"})
    from stratgym.agents.references import reference_values

    references = {spec.env.label: reference_values(spec.env.env_id, spec.env.env_kwargs, 1)}
    with RayBackend() as backend, pytest.raises(Exception, match="NoSuchPolicy"):
        list(backend.run([broken], references))
    assert not backend.workers


def test_cli_runs_the_benchmark_on_ray(local_ray, tmp_path, capsys):
    code = main(["benchmark", "--envs", "stratgym/StatefulCommitment-v0", "--env-kwargs", json.dumps(CLASSROOM_2),
                 "--timesteps", "64", "--seeds", "2", "--eval-episodes", "1", "--out", str(tmp_path),
                 "--no-progress", "--backend", "ray"])
    assert code == 0 and len(_records(tmp_path)) == 2
    # The Ray of this process is used as it is: asking for another one is an error, not a silent choice.
    assert main(["benchmark", "--envs", "stratgym/StatefulCommitment-v0", "--out", str(tmp_path), "--backend", "ray",
                 "--num-cpus", "1"]) == 2
    assert "already initialized" in capsys.readouterr().err


def test_bad_backend_arguments_are_refused_before_anything_runs(tmp_path, capsys):
    with pytest.raises(ValueError, match="num_cpus"):
        RayBackend(address="auto", num_cpus=2)
    with pytest.raises(ValueError, match="num_cpus"):
        RayBackend(num_cpus=0)
    with pytest.raises(RuntimeError, match="not started"):
        RayBackend().slots
    assert main(["benchmark", "--envs", "stratgym/StatefulCommitment-v0", "--out", str(tmp_path),
                 "--num-cpus", "2"]) == 2
    assert "--backend ray only" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_eta_spreads_the_remaining_work_over_the_slots_in_use():
    trained = [("ppo", 1000, 10.0)]
    assert parallel_eta([], [("ppo", 1000)], 4) is None
    assert parallel_eta(trained, [("ppo", 1000)] * 4, 2) == pytest.approx(20.0)
    assert parallel_eta(trained, [("ppo", 1000)] * 2, 8) == pytest.approx(10.0)  # 2 runs use 2 of the 8 slots
    assert parallel_eta(trained, [], 2) == 0.0
