"""The `stratgym` command, run in subprocesses on tiny budgets."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import stratgym  # noqa: F401
from stratgym.cli import REPRODUCTIONS, main

CLASSROOM_3 = '{"game": {"name": "classroom", "horizon": 3}}'


def run(*args, timeout=240, cwd=None):
    return subprocess.run([sys.executable, "-m", "stratgym.cli", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


@pytest.fixture
def cli(capsys, monkeypatch):
    """``cli(*args, cwd=None)``: the command run through ``main`` in this process (``sys.argv`` as the console script
    sets it), as a ``CompletedProcess``; a subprocess per call costs about 4 s of imports."""
    def call(*args, cwd=None):
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", ["stratgym", *args])
            if cwd is not None:
                patch.chdir(cwd)
            try:
                code = main(list(args))
            except SystemExit as done:  # as `sys.exit(main())` ends the process (a reproduction's own --help)
                code = done.code if isinstance(done.code, int) else 0
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)
    return call


def assert_clean_error(done, *fragments):
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_of_every_command(capsys):
    console_script = shutil.which("stratgym", path=str(Path(sys.executable).parent))
    assert console_script is not None, "the stratgym console script is not installed"
    top = subprocess.run([console_script, "--help"], capture_output=True, text=True, timeout=60)
    assert top.returncode == 0
    for command in ("list", "solve", "train", "evaluate", "benchmark", "reproduce"):
        assert command in top.stdout
    expected = {"solve": ["--env-kwargs", "--episodes"], "train": ["--algo", "--seed", "--timesteps", "--hyperparams",
                                                                   "--out", "--tensorboard"],
                "evaluate": ["--episodes", "--stochastic"],
                "benchmark": ["--suite", "--envs", "--algos", "--seeds", "--timesteps", "--out", "resumes", "runs/",
                              "references/", "Suite quick", "scheme-credit", "Suite full"],
                "reproduce": ["stateful-figure1", "persuasion-figures"]}
    helps = {}
    for command in expected:  # in this process: the console script above is the subprocess
        assert main([command, "--help"]) == 0
        helps[command] = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for command, options in expected.items():
        for option in options:
            assert option in helps[command], (command, option)
    solve = helps["solve"]
    for baseline in ("best constant rule", "forecasting", "full revelation", "no information", "obeying the recommendation"):
        assert baseline in solve, baseline


def test_list_names_every_env_and_its_solver():
    done = run("list")
    assert done.returncode == 0
    for env_id in (k for k in gym.registry if k.startswith("stratgym/")):
        assert env_id in done.stdout
    assert "exact MILP" in done.stdout and "best_response" in done.stdout


def test_solve_turns_env_kwargs_into_the_game():
    # Classroom with T rounds: the principal can incentivize study in rounds 1..T-1, so U_P* = T - 1 = 2.
    done = run("solve", "stratgym/StatefulCommitment-v0", "--env-kwargs", CLASSROOM_3, "--json")
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    assert values["optimum"] == pytest.approx(2.0)
    assert values["side"] == "principal" and set(values["baselines"]) == {"best constant rule", "one-round rule repeated",
                                                                         "uniform rule"}
    assert all(value <= values["optimum"] + 1e-9 for value in values["baselines"].values())
    table = run("solve", "stratgym/StatefulCommitment-v0", "--env-kwargs", CLASSROOM_3)
    assert table.returncode == 0 and "exact optimum" in table.stdout and "best constant rule" in table.stdout


def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert_clean_error(run("solve", "stratgym/Nope-v0"), "no reference solver")
    cases = [(["solve", "stratgym/StatefulCommitment-v0", "--env-kwargs", "{oops"], "JSON object"),
             (["solve", "stratgym/StatefulCommitment-v0", "--env-kwargs", '{"game": "school"}'], "game name must be one of"),
             (["train", "stratgym/StatefulCommitment-v0", "--algo", "dqn", "--timesteps", "8", "--no-progress"],
              "needs a Discrete action space"),
             (["train", "stratgym/StatefulCommitment-v0", "--timesteps", "0"], "--timesteps"),
             (["evaluate", str(tmp_path)], "not a saved run"),
             (["benchmark", "--env-kwargs", CLASSROOM_3], "--envs only"),
             (["benchmark", "--envs", "stratgym/StatefulCommitment-v0", "--algos", "dqn", "--out", str(tmp_path)],
              "needs a Discrete action space")]
    for argv, fragment in cases:
        assert main(argv) == 2, argv
        stderr = capsys.readouterr().err.strip().splitlines()
        assert len(stderr) == 1 and fragment in stderr[0], (argv, stderr)
    assert main(["solve"]) == 2  # argparse's own usage errors also exit with 2, in one line
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def _write_run(folder: Path, meta: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(meta)
    (folder / "model.zip").write_bytes(b"")
    return folder


def test_bad_input_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    """Each case used to end in a traceback (TypeError, gymnasium.error.Error, yaml.ParserError, TypeError from SB3,
    NotADirectoryError after training, KeyError) or in argparse's two-line usage error. Run through ``main`` in this
    process (a subprocess per case cost 4 s of imports each); ``test_errors_are_one_line_with_exit_code_2`` shows
    that ``python -m stratgym.cli`` exits with ``main``'s code."""
    (tmp_path / "broken.yml").write_text("stratgym/StatefulCommitment-v0:\n  n_timesteps: [64\n")
    (tmp_path / "typo.yml").write_text("stratgym/StatefulCommitment-v0:\n  n_timesteps: 64\n  n_step: 8\n")
    (tmp_path / "a_file").write_text("")
    tiny = ["--timesteps", "8", "--no-progress", "--eval-episodes", "1"]
    cases = [
        (["solve", "stratgym/StatefulCommitment-v0", "--env-kwargs", '{"foo": 1}'], "takes no argument foo"),
        (["train", "stratgym/StatefulCommitment-v0", "--env-kwargs", '{"foo": 1}', *tiny], "accepts game"),
        (["benchmark", "--envs", "stratgym/StatefulCommitment-v0", "--env-kwargs", '{"foo": 1}', "--out",
          str(tmp_path / "bench")], "takes no argument foo"),
        (["train", "stratgym/StatefulCommitment-v0", "--seed", "-1", *tiny], "--seed"),
        (["train", "stratgym/StatefulCommitment-v0", "--hyperparams", str(tmp_path / "broken.yml"), *tiny], "not valid YAML"),
        (["train", "stratgym/StatefulCommitment-v0", "--hyperparams", str(tmp_path / "typo.yml"), *tiny],
         "did you mean n_steps"),
        (["train", "stratgym/StatefulCommitment-v0", "--out", str(tmp_path / "a_file" / "run"), *tiny], "--out"),
        (["evaluate", str(_write_run(tmp_path / "partial", '{"algo": "ppo"}'))], "lacks"),
        (["evaluate", str(_write_run(tmp_path / "garbled", "{oops"))], "not valid JSON"),
        (["evaluate", str(_write_run(tmp_path / "empty-zip", json.dumps(
            {"algo": "ppo", "env_id": "stratgym/StatefulCommitment-v0", "env_kwargs": {}, "seed": 0,
             "n_timesteps": 8})))], "model.zip"),
        (["benchmark", "--suite", "quick", "--envs", "stratgym/StatefulCommitment-v0"], "not allowed with"),
        (["solve"], "required: ENV"),
        (["train", "stratgym/StatefulCommitment-v0", "--timesteps", "many"], "--timesteps"),
    ]
    work = tmp_path / "cwd"  # the default --out (runs/...) would land here
    work.mkdir()
    monkeypatch.chdir(work)
    for argv, fragment in cases:
        assert main(argv) == 2, argv
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], (argv, lines)
    assert not any(work.iterdir()), "a failed command left a folder behind"
    assert not (tmp_path / "bench" / "runs").exists() or not any((tmp_path / "bench" / "runs").iterdir())


def test_train_against_a_named_quantal_agent_says_there_is_no_exact_optimum(tmp_path, cli):
    done = cli("train", "stratgym/StatefulPrincipal-v0", "--env-kwargs",
               '{"game": {"name": "classroom", "horizon": 3}, "response_model": {"name": "quantal", "beta": 5}}',
               "--timesteps", "64", "--eval-episodes", "1", "--out", str(tmp_path / "run"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "no exact optimum to compare with" in done.stderr and "evaluation return" in done.stdout
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["env_kwargs"]["response_model"]["beta"] == 5


def test_train_then_evaluate(tmp_path, cli):
    out = tmp_path / "run"
    trained = cli("train", "stratgym/StatefulCommitment-v0", "--env-kwargs", CLASSROOM_3, "--timesteps", "256",
                  "--eval-episodes", "1", "--out", str(out), "--no-progress", "--seed", "3")
    assert trained.returncode == 0, trained.stderr
    assert (out / "model.zip").is_file() and (out / "meta.json").is_file()
    assert "evaluation return" in trained.stdout and "exact optimum: 2" in trained.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 3 and meta["env_kwargs"] == json.loads(CLASSROOM_3) and meta["n_timesteps"] == 256
    # PPO rounds a budget up to whole rollouts (4 envs x 64 steps): what is recorded is what was trained.
    rounded = cli("train", "stratgym/StatefulCommitment-v0", "--env-kwargs", CLASSROOM_3, "--timesteps", "64",
                  "--eval-episodes", "1", "--out", str(tmp_path / "rounded"), "--no-progress")
    assert rounded.returncode == 0, rounded.stderr
    meta = json.loads((tmp_path / "rounded" / "meta.json").read_text())
    assert (meta["n_timesteps"], meta["requested_timesteps"]) == (256, 64) and "for 256 steps" in rounded.stdout
    evaluated = cli("evaluate", str(out), "--episodes", "2")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "ppo on stratgym/StatefulCommitment-v0" in evaluated.stdout and "exact optimum: 2" in evaluated.stdout


@pytest.mark.parametrize("figure", sorted(REPRODUCTIONS))
def test_reproduce_dispatches_to_the_figures(figure, cli):
    done = cli("reproduce", figure, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: stratgym reproduce {figure}")


def test_reproduce_writes_the_figure(tmp_path):
    done = run("reproduce", "stateful-figure1", "--quick", "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "stateful_figure1.png").stat().st_size > 0 and (tmp_path / "stateful_figure1.csv").is_file()
    assert_clean_error(run("reproduce", "stateful-figure1", "--max-horizon", "0", "--out", str(tmp_path)), "error")


def test_train_never_replaces_another_run_silently(tmp_path, cli):
    out = tmp_path / "agent"
    common = ["train", "stratgym/StatefulCommitment-v0", "--env-kwargs", CLASSROOM_3, "--eval-episodes", "1"]
    first = cli(*common, "--timesteps", "512", "--out", str(out), "--no-progress")
    assert first.returncode == 0, first.stderr
    saved = (out / "meta.json").read_text(), (out / "model.zip").read_bytes()
    other = cli(*common, "--timesteps", "256", "--out", str(out), "--no-progress")
    assert_clean_error(other, "holds another run", "n_timesteps 512 -> 256", "--overwrite")
    same = cli(*common, "--timesteps", "512", "--out", str(out), "--no-progress")
    assert same.returncode == 0 and "reusing the finished run" in same.stdout and "evaluation return" in same.stdout
    assert ((out / "meta.json").read_text(), (out / "model.zip").read_bytes()) == saved
    # Progress off a terminal: a few plain lines, not a stream of carriage returns. And the TensorBoard scalars.
    replaced = cli(*common, "--timesteps", "256", "--out", str(out), "--overwrite", "--tensorboard", str(tmp_path / "tb"))
    assert replaced.returncode == 0, replaced.stderr
    assert "replacing the run" in replaced.stdout and json.loads((out / "meta.json").read_text())["n_timesteps"] == 256
    assert "\r" not in replaced.stderr and 1 <= len(replaced.stderr.splitlines()) <= 10
    assert "256/256 steps" in replaced.stderr.replace(",", "")
    assert list((tmp_path / "tb").glob("agent_1/events.out.tfevents.*"))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["command"][1:] == ["train", *common[1:], "--timesteps", "256", "--out", str(out), "--overwrite",
                                   "--tensorboard", str(tmp_path / "tb")]
    # Without --out, every configuration has its own folder.
    work = tmp_path / "cwd"
    work.mkdir()
    for budget in ("64", "128"):
        assert cli(*common, "--timesteps", budget, "--no-progress", cwd=work).returncode == 0
    folders = sorted(p.name for p in (work / "runs").iterdir())
    assert len(folders) == 2 and all(name.startswith("StatefulCommitment-v0__ppo__seed0__") for name in folders)


def test_benchmark_says_what_it_reuses_and_trains(tmp_path, cli):
    common = ["benchmark", "--envs", "stratgym/StatefulCommitment-v0", "--env-kwargs", CLASSROOM_3, "--seeds", "1",
              "--eval-episodes", "1", "--out", str(tmp_path / "bench")]
    first = cli(*common, "--timesteps", "64", "--tensorboard", str(tmp_path / "tb"))
    assert first.returncode == 0, first.stderr
    assert "1 runs: reusing 0 finished runs of an identical configuration, training 1" in first.stderr
    assert "\r" not in first.stderr and len(first.stderr.splitlines()) <= 1 + 10 + 1
    (name,) = [p.name for p in (tmp_path / "bench" / "runs").iterdir()]
    assert list((tmp_path / "tb").glob(f"{name}_1/events.out.tfevents.*")), "one TensorBoard run per trained run"
    again = cli(*common, "--timesteps", "64", "--overwrite", "--no-progress")
    assert again.returncode == 0 and "1 runs trained (1 replacing finished runs, --overwrite), 0 resumed" in again.stdout
    other = cli(*common, "--timesteps", "128", "--no-progress")
    assert other.returncode == 0 and "1 runs trained, 0 resumed" in other.stdout
    assert len(list((tmp_path / "bench" / "runs").iterdir())) == 2


def test_every_named_suite_is_a_suite_choice():
    from stratgym.agents.benchmark import SUITES
    from stratgym.cli import build_parser

    bench = build_parser()._subparsers._group_actions[0].choices["benchmark"]
    suite_action = next(action for action in bench._actions if "--suite" in action.option_strings)
    assert set(suite_action.choices) == set(SUITES)
