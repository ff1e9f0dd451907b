"""The ``stratgym`` command: list envs, solve them exactly, train and evaluate learners, run the benchmark.

Errors are reported as one line on stderr with exit code 2 (argparse's convention), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ENV_KWARGS_HELP = (
    'JSON object of env constructor arguments; "game" is turned into a game instance: a name '
    '(\'{"game": "classroom"}\'), a name with arguments (\'{"game": {"name": "classroom", "horizon": 3}}\'), '
    'a random instance (\'{"game": {"name": "random", "seed": 3}}\') or the game\'s fields. Other keys go to the '
    'env unchanged, e.g. \'{"game": "classroom", "response_model": "forecasting"}\'.')

#: `stratgym reproduce NAME` -> the function in stratgym.figures that parses its arguments and draws.
REPRODUCTIONS = {"stateful-figure1": "stateful_figure1_main", "persuasion-figures": "persuasion_figures_main"}


class CommandError(Exception):
    """A user error reported as one line on stderr (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stratgym",
        description="Multi-round principal-agent games: exact solvers, Gymnasium envs, and RL learners benchmarked "
                    "against the exact optima.",
        epilog="Run 'stratgym COMMAND --help' for the options of a command.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="list the environments, who learns in each, and their reference solvers",
                        description="List every registered stratgym environment with a one-line description, the "
                                    "side that learns in it and the exact solver it is scored against.")

    solve = commands.add_parser("solve", help="exact optimum and baselines of an env instance",
                                description="Compute the exact optimum of the learning side of ENV and the baselines "
                                            "(stateful principal: best constant rule, one-round rule repeated, uniform; "
                                            "agent: myopic, forecasting and no-effort agents), and print them as a table.")
    solve.add_argument("env", metavar="ENV", help="env id, e.g. stratgym/StatefulCommitment-v0 (see 'stratgym list')")
    solve.add_argument("--env-kwargs", metavar="JSON", help=ENV_KWARGS_HELP)
    solve.add_argument("--episodes", type=int, default=10, metavar="N",
                       help="evaluation episodes averaged over when the values depend on the episode (default 10)")
    solve.add_argument("--json", action="store_true", help="print the values as JSON instead of a table")

    train = commands.add_parser("train", help="train an RL learner on an env and save it",
                                description="Train a stable-baselines3 learner on ENV with the packaged (or given) "
                                            "rl-baselines3-zoo hyperparameters, save model.zip and meta.json to --out, "
                                            "and print its evaluation next to the exact optimum.")
    train.add_argument("env", metavar="ENV", help="env id (see 'stratgym list')")
    train.add_argument("--algo", default="ppo", choices=["ppo", "a2c", "sac", "td3", "dqn"],
                       help="learner (default ppo); it must fit the env's action space (sac/td3: Box, dqn: Discrete)")
    train.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    train.add_argument("--timesteps", type=int, metavar="N", help="training budget in env steps (default: the "
                                                                  "hyperparameter file's n_timesteps)")
    train.add_argument("--env-kwargs", metavar="JSON", help=ENV_KWARGS_HELP)
    train.add_argument("--eval-env-kwargs", metavar="JSON",
                       help="env kwargs of the evaluations and the exact optimum (default: --env-kwargs), for a "
                            "reward used only to train, e.g. --env-kwargs '{\"reward\": \"penalized\"}' "
                            "--eval-env-kwargs '{}' on stratgym/PersuasionScheme-v0")
    train.add_argument("--hyperparams", metavar="FILE", help="zoo-format YAML file keyed by env id (default: the "
                                                             "packaged stratgym/agents/hyperparams/<algo>.yml)")
    train.add_argument("--out", metavar="DIR", help="where to save the run (default runs/<env>__<algo>__seed<seed>)")
    train.add_argument("--eval-episodes", type=int, default=5, metavar="N",
                       help="evaluation episodes per learning-curve point and for the final score (default 5)")
    train.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs to DIR (needs tensorboard)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    evaluate = commands.add_parser("evaluate", help="evaluate a saved run",
                                   description="Load a run saved by 'stratgym train' (or the benchmark), play it on "
                                               "seeded episodes of its env and print the mean return ± standard error "
                                               "next to the exact optimum.")
    evaluate.add_argument("run", metavar="RUN_DIR", help="folder holding model.zip and meta.json")
    evaluate.add_argument("--episodes", type=int, default=10, metavar="N", help="evaluation episodes (default 10)")
    evaluate.add_argument("--seed", type=int, help="seed of the first episode (default: the benchmark's evaluation seed)")
    evaluate.add_argument("--stochastic", action="store_true", help="sample actions instead of the deterministic policy")

    bench = commands.add_parser("benchmark", help="learned vs exact optima over a suite (resumable)",
                                description="Train, evaluate and compare learners with the exact optima and baselines "
                                            "for every env of a suite, over several seeds. Writes the table "
                                            "(summary.csv/json), learning curves (curves.png/csv), references.csv and "
                                            "report.md to --out. Finished runs are kept on disk and skipped when the "
                                            "command is run again, so an interrupted benchmark resumes where it stopped.")
    bench.add_argument("--suite", choices=["quick", "default", "full"], default="quick",
                       help="quick: the demo (PPO, small budgets, 2 seeds, ~2 minutes on 2 cores); default: PPO "
                            "and an off-policy learner (SAC; TD3 on the scheme env; DQN on discrete envs), 3 seeds, "
                            "~40 minutes; full: every learner that fits, 3x budgets, 5 seeds")
    bench.add_argument("--envs", nargs="+", metavar="ENV", help="benchmark these env ids instead of a suite")
    bench.add_argument("--env-kwargs", metavar="JSON", help="with --envs: " + ENV_KWARGS_HELP)
    bench.add_argument("--algos", nargs="+", metavar="ALGO", help="learners to run (default: the suite's; ppo with --envs)")
    bench.add_argument("--seeds", type=int, metavar="N", help="number of seeds 0..N-1 (default: the suite's; 2 with --envs)")
    bench.add_argument("--timesteps", type=int, metavar="N", help="training budget of every run (default: the suite's)")
    bench.add_argument("--eval-episodes", type=int, metavar="N", help="evaluation episodes (default: the suite's)")
    bench.add_argument("--out", metavar="DIR", help="output folder (default results/benchmark/<suite>, "
                                                    "results/benchmark/custom with --envs)")
    bench.add_argument("--no-progress", action="store_true", help="hide the progress bars")

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


def _positive(value, name: str):
    if value is not None and value < 1:
        raise CommandError(f"{name} must be a positive integer, got {value}")
    return value


def _command_list(args) -> None:
    import gymnasium as gym

    from stratgym.agents.references import REFERENCES

    for env_id in sorted(k for k in gym.registry if k.startswith("stratgym/")):
        entry = REFERENCES.get(env_id)
        if entry is None:
            print(f"{env_id}\n    (no reference solver)")
            continue
        print(f"{env_id}  [{entry.side} learns]\n    {entry.description}\n    reference solver: {entry.solver}")


def _command_solve(args) -> None:
    from stratgym.agents.instances import parse_env_kwargs
    from stratgym.agents.references import reference_values

    reference = reference_values(args.env, parse_env_kwargs(args.env_kwargs), _positive(args.episodes, "--episodes"))
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
    from stratgym.agents.evaluate import EVAL_SEED, evaluate_policy
    from stratgym.agents.instances import parse_env_kwargs
    from stratgym.agents.references import REFERENCES, reference_values
    from stratgym.agents.train import train

    env_kwargs = parse_env_kwargs(args.env_kwargs)
    eval_env_kwargs = env_kwargs if args.eval_env_kwargs is None else parse_env_kwargs(args.eval_env_kwargs)
    episodes = _positive(args.eval_episodes, "--eval-episodes")
    reference = reference_values(args.env, eval_env_kwargs, episodes) if args.env in REFERENCES else None
    discount = reference.discount if reference else 1.0
    result = train(args.env, args.algo, args.seed, env_kwargs=env_kwargs, eval_env_kwargs=eval_env_kwargs,
                   n_timesteps=_positive(args.timesteps, "--timesteps"), hyperparams_file=args.hyperparams,
                   n_eval_episodes=episodes, eval_discount=discount, progress_bar=not args.no_progress,
                   tensorboard_log=args.tensorboard)
    out = Path(args.out) if args.out else Path("runs") / f"{args.env.split('/')[-1]}__{args.algo}__seed{args.seed}"
    result.save(out)
    final = evaluate_policy(result.model, args.env, episodes, EVAL_SEED, env_kwargs=eval_env_kwargs, discount=discount)
    print(f"trained {args.algo} on {args.env} for {result.n_timesteps} steps in {result.wall_time:.1f} s; saved to {out}")
    _report(final, reference)


def _report(final, reference) -> None:
    print(f"evaluation return: {final.mean:.6g} ± {final.stderr:.3g} (standard error, {final.returns.size} episodes)")
    if reference is not None:
        ratio = f" ({final.mean / reference.optimum:.1%} of it)" if reference.optimum > 0 else ""
        print(f"{reference.optimum_name}: {reference.optimum:.6g}{ratio}; baselines: "
              + ", ".join(f"{name} {value:.6g}" for name, value in reference.baselines.items()))


def _command_evaluate(args) -> None:
    from stratgym.agents.evaluate import EVAL_SEED, evaluate_policy
    from stratgym.agents.references import REFERENCES, reference_values
    from stratgym.agents.train import load_model

    model, meta = load_model(args.run)
    episodes = _positive(args.episodes, "--episodes")
    seed = EVAL_SEED if args.seed is None else args.seed
    env_id, env_kwargs = meta["env_id"], meta.get("eval_env_kwargs", meta["env_kwargs"])
    reference = reference_values(env_id, env_kwargs, episodes, seed) if env_id in REFERENCES else None
    final = evaluate_policy(model, env_id, episodes, seed, deterministic=not args.stochastic, env_kwargs=env_kwargs,
                            discount=reference.discount if reference else 1.0)
    print(f"{meta['algo']} on {env_id} (seed {meta['seed']}, {meta['n_timesteps']} steps)")
    _report(final, reference)


def _command_benchmark(args) -> None:
    from stratgym.agents.benchmark import SUITES, adjust_suite, custom_suite, run_benchmark, table_lines
    from stratgym.agents.instances import parse_env_kwargs

    for name in ("seeds", "timesteps", "eval_episodes"):
        _positive(getattr(args, name), f"--{name.replace('_', '-')}")
    if args.envs:
        suite = custom_suite(args.envs, parse_env_kwargs(args.env_kwargs), args.algos or ("ppo",), args.seeds or 2,
                             args.timesteps, args.eval_episodes or 5)
    else:
        if args.env_kwargs:
            raise CommandError("--env-kwargs applies to --envs only (suites define their own instances)")
        suite = adjust_suite(SUITES[args.suite], args.algos, args.seeds, args.timesteps, args.eval_episodes)
    out = Path(args.out) if args.out else Path("results") / "benchmark" / suite.name
    result = run_benchmark(suite, out, progress=not args.no_progress)
    header, rows = table_lines(result.rows)
    _print_table(header, rows, title=f"stratgym benchmark, suite {suite.name}: learned vs exact optimum "
                                     f"(mean ± 95% CI over {len(suite.seeds)} seeds)")
    print(f"{result.trained} runs trained, {result.resumed} resumed from {out}; {result.wall_time:.1f} s. "
          f"Outputs: {out / 'summary.csv'}, {out / 'curves.png'}, {out / 'report.md'}")


def _command_reproduce(args) -> None:
    from stratgym import figures  # matplotlib and the solvers load only for this command

    status = getattr(figures, REPRODUCTIONS[args.figure])(list(args.args), prog=f"stratgym reproduce {args.figure}")
    if status:
        raise SystemExit(status)


COMMANDS = {"list": _command_list, "solve": _command_solve, "train": _command_train, "evaluate": _command_evaluate,
            "benchmark": _command_benchmark, "reproduce": _command_reproduce}


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (CommandError, ValueError, ImportError, FileNotFoundError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"stratgym {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stratgym {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
