"""The ``stratgym`` command: list envs, solve them exactly, train and evaluate learners, run the benchmark.

Errors are reported as one line on stderr with exit code 2 (argparse's convention), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from stratgym.games.validation import as_positive_int  # numpy only: keeps --help fast

from stratgym.registry import env_entries, families  # strings only: keeps --help fast


def _env_kwargs_help() -> str:
    """The help of ``--env-kwargs``, with every family's named games from the registry."""
    names = "; ".join(f"{family.name} envs: {', '.join(family.instances)}" for family in families().values())
    return ('JSON object of env constructor arguments; "game" is turned into a game instance of the env\'s family: a '
            'name (\'{"game": "classroom"}\'), a name with arguments (\'{"game": {"name": "classroom", "horizon": 3}}\'), '
            'a random instance (\'{"game": {"name": "random", "seed": 3}}\') or the game\'s fields. Named games: '
            f'{names}. "agent" names the principal envs\' agent (\'{{"agent": "forecasting"}}\', \'{{"agent": '
            '{"name": "quantal", "beta": 5, "k": 1}}\'). Other keys go to the env unchanged, e.g. \'{"game": '
            '"classroom", "agent": "forecasting"}\'.')


def _solve_description() -> str:
    """The description of ``stratgym solve``: each env's reference solver and baselines, from the registry."""
    envs = "; ".join(f"{entry.name} ({entry.side}): {entry.solver}, against {entry.baselines}"
                     for entry in env_entries().values())
    return ("Compute the exact optimum of the learning side of ENV and the baselines, and print them as a table. "
            f"Per env: {envs}.")


#: `stratgym reproduce NAME` -> the function that parses its arguments and draws: in stratgym.figures, or
#: "module:function" for another stratgym module.
REPRODUCTIONS = {"stateful-figure1": "stateful_figure1_main", "persuasion-figures": "persuasion_figures_main",
                 "persuasion-population": "population_figures:persuasion_population_main"}


class CommandError(Exception):
    """A user error reported as one line on stderr (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (argparse prints the usage first) and an optionally computed epilog.

    ``lazy_epilog`` is called only when the help is printed, so that listing the benchmark suites, which
    needs torch and stable-baselines3, does not slow down every other command.
    """

    lazy_epilog = None

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def format_help(self) -> str:
        if self.lazy_epilog is not None:
            self.epilog = self.lazy_epilog()
        return super().format_help()


def _integer(minimum: int):
    """An argparse type: an integer ``>= minimum``, checked while parsing so that nothing runs on a bad count."""

    def parse(text: str) -> int:
        try:
            return as_positive_int(int(text), "value", minimum)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None

    parse.__name__ = f"integer >= {minimum}"  # argparse names the type in some messages
    return parse


COUNT = _integer(1)
SEED = _integer(0)


def _suites_epilog() -> str:
    from stratgym.agents.benchmark import describe_suites

    return describe_suites()


def _add_env_arguments(parser: argparse.ArgumentParser, env_kwargs_help: str) -> None:
    """``ENV`` and ``--env-kwargs``: the env instance a command builds (``solve``, ``train``)."""
    parser.add_argument("env", metavar="ENV", help="env id, e.g. stratgym/StatefulCommitment-v0 (see 'stratgym list')")
    parser.add_argument("--env-kwargs", metavar="JSON", help=env_kwargs_help)


def build_parser() -> argparse.ArgumentParser:
    """The ``stratgym`` command's argument parser (its subcommands and their options)."""
    parser = _Parser(
        prog="stratgym",
        description="Multi-round principal-agent games: exact solvers, Gymnasium envs, and RL learners benchmarked "
                    "against the exact optima.",
        epilog="Run 'stratgym COMMAND --help' for the options of a command.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="list the game families, their envs, who learns in each, and their reference solvers",
                        description="List every game family of the registry with its named games, and each of its "
                                    "environments with a one-line description, the side that learns in it and the "
                                    "exact solver it is scored against.")

    env_kwargs_help = _env_kwargs_help()
    solve = commands.add_parser("solve", help="exact optimum and baselines of an env instance",
                                description=_solve_description())
    _add_env_arguments(solve, env_kwargs_help)
    solve.add_argument("--episodes", type=COUNT, default=10, metavar="N",
                       help="evaluation episodes averaged over when the values depend on the episode (default 10)")
    solve.add_argument("--json", action="store_true", help="print the values as JSON instead of a table")

    train = commands.add_parser("train", help="train an RL learner on an env and save it",
                                description="Train a stable-baselines3 learner on ENV with the packaged (or given) "
                                            "rl-baselines3-zoo hyperparameters, save model.zip and meta.json to --out, "
                                            "and print its evaluation next to the exact optimum.")
    _add_env_arguments(train, env_kwargs_help)
    train.add_argument("--algo", default="ppo", choices=["ppo", "a2c", "sac", "td3", "dqn"],
                       help="learner (default ppo); it must fit the env's action space (sac/td3: Box, dqn: Discrete)")
    train.add_argument("--seed", type=SEED, default=0, help="training seed >= 0 (default 0)")
    train.add_argument("--timesteps", type=COUNT, metavar="N",
                       help="training budget in env steps (default: the hyperparameter file's n_timesteps); "
                            "on-policy learners round it up to whole rollouts, and the steps actually trained "
                            "are what is recorded")
    train.add_argument("--eval-env-kwargs", metavar="JSON",
                       help="env kwargs of the evaluations and the exact optimum (default: --env-kwargs), for a "
                            "reward used only to train, e.g. --env-kwargs '{\"reward\": \"penalized\"}' "
                            "--eval-env-kwargs '{}' on stratgym/PersuasionScheme-v0")
    train.add_argument("--hyperparams", metavar="FILE", help="zoo-format YAML file keyed by env id (default: the "
                                                             "packaged stratgym/agents/hyperparams/<algo>.yml)")
    train.add_argument("--out", metavar="DIR", help="where to save the run (default runs/<env>__<algo>__seed<seed>__"
                                                    "<hash of the full configuration>); checked before training "
                                                    "starts, created when the run is saved. A finished run of the "
                                                    "identical configuration there is reused; any other run there is "
                                                    "kept (an error) unless --overwrite")
    train.add_argument("--overwrite", action="store_true",
                       help="retrain and replace the run saved in --out, whatever its configuration")
    train.add_argument("--eval-episodes", type=COUNT, default=5, metavar="N",
                       help="evaluation episodes per learning-curve point and for the final score (default 5)")
    train.add_argument("--tensorboard", metavar="DIR",
                       help="write TensorBoard logs to DIR (needs tensorboard): SB3's scalars and, at each evaluation, "
                            "stratgym/optimum, stratgym/baseline/<name>, stratgym/learned and "
                            "stratgym/learned_over_optimum")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    evaluate = commands.add_parser("evaluate", help="evaluate a saved run",
                                   description="Load a run saved by 'stratgym train' (or the benchmark), play it on "
                                               "seeded episodes of its env and print the mean return ± standard error "
                                               "next to the exact optimum.")
    evaluate.add_argument("run", metavar="RUN_DIR", help="folder holding model.zip and meta.json")
    evaluate.add_argument("--episodes", type=COUNT, default=10, metavar="N", help="evaluation episodes (default 10)")
    evaluate.add_argument("--seed", type=SEED, help="seed of the first episode (default: the benchmark's evaluation seed)")
    evaluate.add_argument("--stochastic", action="store_true", help="sample actions instead of the deterministic policy")

    bench = commands.add_parser("benchmark", help="learned vs exact optima over a suite (resumable)",
                                description="Train, evaluate and compare learners with the exact optima and baselines "
                                            "for every env of a suite (or of --envs), over several seeds. Writes to "
                                            "--out: the table (summary.csv/json), learning curves (curves.png/csv), "
                                            "references.csv, report.md, runs/<env>__<learner>__seed<k>__<hash>/ "
                                            "(model.zip, meta.json, record.json of each run; the hash is of the run's "
                                            "full configuration) and references/<env>.json (the exact values of each "
                                            "env instance). Finished runs are kept on disk and reused when their "
                                            "configuration is identical, so an interrupted benchmark resumes where it "
                                            "stopped; runs of other settings are kept in their own folders.")
    bench.lazy_epilog = _suites_epilog
    which = bench.add_mutually_exclusive_group()
    which.add_argument("--suite", choices=["quick", "default", "full", "random"],
                       help="(default quick) quick: the demo (PPO, small budgets, 2 seeds, ~2 minutes on 2 cores); "
                            "default: PPO and an off-policy learner (SAC; TD3 on the scheme env; DQN on discrete envs), "
                            "3 seeds, ~40 minutes; full: every learner that fits, 3x budgets, 5 seeds; random: PPO on 10 seeded "
                            "random instances per principal env, reported as a distribution. Their envs are "
                            "listed below")
    which.add_argument("--envs", nargs="+", metavar="ENV", help="benchmark these env ids instead of a suite "
                                                                 "(not with --suite)")
    bench.add_argument("--env-kwargs", metavar="JSON", help="with --envs: " + env_kwargs_help)
    bench.add_argument("--algos", nargs="+", metavar="ALGO", help="learners to run (default: the suite's; ppo with --envs)")
    bench.add_argument("--seeds", type=COUNT, metavar="N", help="number of seeds 0..N-1 (default: the suite's; 2 with --envs)")
    bench.add_argument("--timesteps", type=COUNT, metavar="N", help="training budget of every run (default: the suite's)")
    bench.add_argument("--eval-episodes", type=COUNT, metavar="N", help="evaluation episodes (default: the suite's)")
    bench.add_argument("--out", metavar="DIR", help="output folder (default results/benchmark/<suite>, "
                                                    "results/benchmark/custom with --envs)")
    bench.add_argument("--overwrite", action="store_true",
                       help="retrain and replace finished runs of an identical configuration instead of reusing them")
    bench.add_argument("--tensorboard", metavar="DIR",
                       help="write TensorBoard logs of every trained run to DIR (needs tensorboard), with the optimum, "
                            "the baselines and learned/optimum as stratgym/... scalars")
    bench.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    bench.add_argument("--backend", choices=["serial", "ray"], default="serial",
                       help="serial (default): one run after another in this process; ray: every run as a Ray task "
                            "of one CPU, on a local Ray or on the cluster at --address (needs stratgym[ray]). Same "
                            "folders, resuming and numbers; this process writes every result")
    bench.add_argument("--address", metavar="ADDR",
                       help="with --backend ray: the running Ray cluster to use (auto: the one 'ray start' made on this "
                            "machine; or HOST:PORT of its head) instead of starting a local Ray")
    bench.add_argument("--num-cpus", type=COUNT, metavar="N",
                       help="with --backend ray and no --address: CPUs of the local Ray, i.e. runs trained at once "
                            "(default: all of this machine's)")

    reproduce = commands.add_parser("reproduce", help="reproduce a figure of the papers",
                                    description="Draw a figure of the papers as PNG next to a CSV of its numbers "
                                                "(stateful-figure1: 'Stateful Strategic Regression' Figure 1; "
                                                "persuasion-figures: 'Bayesian Persuasion for Algorithmic Recourse' "
                                                "Figures 2 and 3). Arguments after the name go to the script.")
    reproduce.add_argument("figure", choices=sorted(REPRODUCTIONS), help="which reproduction")
    reproduce.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the reproduction (see --help after the name)")
    return parser


def _print_table(header: list[str], rows: list[list[str]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in header:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console = Console()
    # Piped output has no terminal width to fit: use a wide one rather than rich's 80 columns.
    (console if console.is_terminal else Console(width=160)).print(table)


def _command_list(args) -> None:
    for family in families().values():
        print(f"{family.name}: {family.title}\n  game {family.game}; named games: {', '.join(family.instances)}")
        for entry in family.envs:
            print(f"  {entry.id}  [{entry.side} learns]\n      {entry.description}\n"
                  f"      reference solver: {entry.solver}\n      baselines: {entry.baselines}")
            if entry.frozen_as:
                print(f"      trained model: {entry.frozen_as}")


def _command_solve(args) -> None:
    from stratgym.agents.instances import parse_env_kwargs
    from stratgym.agents.references import reference_values

    reference = reference_values(args.env, parse_env_kwargs(args.env_kwargs), args.episodes)
    if args.json:
        print(json.dumps(reference.to_json(), indent=1))
        return
    rows = [[reference.optimum_name, f"{reference.optimum:.6g}", reference.solver]]
    rows += [[name, f"{value:.6g}", f"{value / reference.optimum:.1%} of the {reference.optimum_name}"
              if reference.optimum > 0 else ""] for name, value in reference.baselines.items()]
    episodes = f", averaged over {reference.n_episodes} episodes" if reference.n_episodes > 1 else ""
    _print_table(["policy", "value", "notes"], rows,
                 title=f"{args.env} ({reference.side} side{episodes}; solved in {reference.solve_time:.2f} s)")


def _command_train(args) -> None:
    from stratgym.agents.evaluate import EVAL_SEED
    from stratgym.agents.instances import make_env, parse_env_kwargs
    from stratgym.agents.train import (config_differences, load_model, run_folder_name, saved_config,
                                       saved_run_exists, train, training_config)

    env_kwargs = parse_env_kwargs(args.env_kwargs)
    eval_env_kwargs = env_kwargs if args.eval_env_kwargs is None else parse_env_kwargs(args.eval_env_kwargs)
    if args.out:
        _check_output_folder(Path(args.out), "--out")  # now, not after a training run that could then not be saved
    reference = _reference(args.env, eval_env_kwargs, args.eval_episodes, EVAL_SEED)
    eval_discount = reference.discount if reference else 1.0
    config = training_config(args.env, args.algo, args.seed, make_env(args.env, eval_env_kwargs).action_space,
                             env_kwargs=env_kwargs, eval_env_kwargs=eval_env_kwargs, n_timesteps=args.timesteps,
                             hyperparams_file=args.hyperparams, n_eval_episodes=args.eval_episodes,
                             eval_seed=EVAL_SEED, eval_discount=eval_discount)
    out = Path(args.out) if args.out else Path("runs") / run_folder_name(args.env.split("/")[-1], args.algo,
                                                                         args.seed, config)
    _check_output_folder(out, "--out")
    if saved_run_exists(out):
        old = saved_config(out)
        if args.overwrite:
            print(f"replacing the run in {out} (--overwrite; {config_differences(old, config)})")
        elif old == config:
            model, meta = load_model(out)
            print(f"reusing the finished run in {out}: identical configuration, {meta['n_timesteps']} steps "
                  "(--overwrite retrains it)")
            _evaluate_and_report(model, args.env, eval_env_kwargs, args.eval_episodes, EVAL_SEED, reference)
            return
        else:
            raise CommandError(f"--out {str(out)!r} holds another run ({config_differences(old, config)}); it is "
                               "kept: pass --overwrite to replace it, or choose another --out")
    else:
        print(f"training into {out}")
    result = train(args.env, args.algo, args.seed, env_kwargs=env_kwargs, eval_env_kwargs=eval_env_kwargs,
                   n_timesteps=args.timesteps, hyperparams_file=args.hyperparams, n_eval_episodes=args.eval_episodes,
                   eval_discount=eval_discount, progress_bar=not args.no_progress,
                   tensorboard_log=args.tensorboard, tb_log_name=out.name, reference=reference)
    result.save(out, overwrite=args.overwrite)
    print(f"trained {args.algo} on {args.env} for {result.n_timesteps} steps in {result.wall_time:.1f} s; saved to {out}")
    _evaluate_and_report(result.model, args.env, eval_env_kwargs, args.eval_episodes, EVAL_SEED, reference)


def _check_output_folder(path: Path, option: str) -> None:
    """``CommandError`` unless ``path`` can be created (or is a folder) and written; creates nothing, so a command
    that fails on another argument leaves no empty folder behind."""
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"{option} {str(path)!r} cannot be created: {str(existing)!r} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CommandError(f"{option} {str(path)!r} is not writable")


def _reference(env_id: str, env_kwargs: dict, episodes: int, seed: int):
    """The exact values of ``env_id`` on the evaluation episodes, or ``None`` (said on stderr) where there are none:
    an env without a reference solver, or an agent no solver knows (a quantal or learned one)."""
    from stratgym.agents.references import REFERENCES, NoExactReference, reference_values

    if env_id not in REFERENCES:
        return None
    try:
        return reference_values(env_id, env_kwargs, episodes, seed)
    except NoExactReference as error:
        print(f"note: no exact optimum to compare with: {error}", file=sys.stderr)
        return None


def _evaluate_and_report(model, env_id: str, env_kwargs: dict, episodes: int, seed: int, reference,
                         deterministic: bool = True) -> None:
    """Evaluate ``model`` on the seeded episodes (discounted as the reference is) and print it next to the reference."""
    from stratgym.agents.evaluate import evaluate_policy

    final = evaluate_policy(model, env_id, episodes, seed, deterministic=deterministic, env_kwargs=env_kwargs,
                            discount=reference.discount if reference else 1.0)
    print(f"evaluation return: {final.mean:.6g} ± {final.stderr:.3g} (standard error, {final.returns.size} episodes)")
    if reference is not None:
        ratio = f" ({final.mean / reference.optimum:.1%} of it)" if reference.optimum > 0 else ""
        print(f"{reference.optimum_name}: {reference.optimum:.6g}{ratio}; baselines: "
              + ", ".join(f"{name} {value:.6g}" for name, value in reference.baselines.items()))


def _command_evaluate(args) -> None:
    from stratgym.agents.evaluate import EVAL_SEED
    from stratgym.agents.train import load_model

    model, meta = load_model(args.run)
    seed = EVAL_SEED if args.seed is None else args.seed
    env_id, env_kwargs = meta["env_id"], meta.get("eval_env_kwargs", meta["env_kwargs"])
    print(f"{meta['algo']} on {env_id} (seed {meta['seed']}, {meta['n_timesteps']} steps)")
    _evaluate_and_report(model, env_id, env_kwargs, args.episodes, seed,
                         _reference(env_id, env_kwargs, args.episodes, seed), deterministic=not args.stochastic)


def _command_benchmark(args) -> None:
    from stratgym.agents.benchmark import SUITES, adjust_suite, custom_suite, run_benchmark, scoring_errors, table_lines
    from stratgym.agents.instances import parse_env_kwargs

    if args.envs:
        suite = custom_suite(args.envs, parse_env_kwargs(args.env_kwargs), args.algos or ("ppo",), args.seeds or 2,
                             args.timesteps, args.eval_episodes or 5)
    else:
        if args.env_kwargs:
            raise CommandError("--env-kwargs applies to --envs only (suites define their own instances)")
        suite = adjust_suite(SUITES[args.suite or "quick"], args.algos, args.seeds, args.timesteps, args.eval_episodes)
    out = Path(args.out) if args.out else Path("results") / "benchmark" / suite.name
    if args.tensorboard:
        _check_output_folder(Path(args.tensorboard), "--tensorboard")
    if args.backend == "ray":
        from stratgym.agents.backends import RayBackend

        backend = RayBackend(args.address, args.num_cpus)
    elif args.address or args.num_cpus:
        raise CommandError("--address and --num-cpus apply to --backend ray only")
    else:
        backend = contextlib.nullcontext()  # serial: run_benchmark trains in this process
    with backend as started:
        result = run_benchmark(suite, out, progress=not args.no_progress, overwrite=args.overwrite,
                               tensorboard=args.tensorboard, backend=started)
    header, rows = table_lines(result.rows)
    _print_table(header, rows, title=f"stratgym benchmark, suite {suite.name}: normalized score, learned vs exact optimum "
                                     f"(mean ± 95% CI over {len(suite.seeds)} seeds)")
    replaced = f" ({result.replaced} replacing finished runs, --overwrite)" if result.replaced else ""
    print(f"{result.trained} runs trained{replaced}, {result.resumed} resumed from {out}; {result.wall_time:.1f} s. "
          f"Outputs: {out / 'summary.csv'}, {out / 'curves.png'}, {out / 'report.md'}")
    errors = scoring_errors(result.rows)
    if errors:  # a learner above an exact optimum is a bug to surface, not a result
        raise CommandError(f"{len(errors)} rows above their optimum beyond the CI (see report.md): " + "; ".join(errors))


def _command_reproduce(args) -> None:
    import importlib  # matplotlib and the solvers load only for this command

    module, _, function = REPRODUCTIONS[args.figure].rpartition(":")
    main = getattr(importlib.import_module(f"stratgym.{module or 'figures'}"), function)
    status = main(list(args.args), prog=f"stratgym reproduce {args.figure}")
    if status:
        raise SystemExit(status)


COMMANDS = {"list": _command_list, "solve": _command_solve, "train": _command_train, "evaluate": _command_evaluate,
            "benchmark": _command_benchmark, "reproduce": _command_reproduce}


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input or a bad environment, not a bug in stratgym: reported in one line.

    ValueError is what stratgym raises for bad arguments and unreadable files of its own; OSError covers files and
    folders; ImportError an optional dependency that is missing; gymnasium's errors its argument checks. Anything
    else (KeyError, TypeError, ...) is a bug and keeps its traceback.
    """
    errors = (CommandError, ValueError, ImportError, OSError)
    gymnasium = sys.modules.get("gymnasium")  # imported by the commands that can raise its errors
    return errors + (gymnasium.error.Error,) if gymnasium is not None else errors


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error (2), already printed
        return done.code if isinstance(done.code, int) else 2
    try:
        COMMANDS[args.command](args)
    except Exception as error:
        if not isinstance(error, _user_errors()):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"stratgym {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stratgym {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
