"""Reproduce Figure 1 of "Stateful Strategic Regression" (NeurIPS 2021) on the classroom game.

    python scripts/reproduce_stateful_figure1.py --out results/figures          # T = 1..6, quarter splits
    python scripts/reproduce_stateful_figure1.py --quick --out /tmp/fig         # T = 1..3, half splits (seconds)

Writes stateful_figure1.png and stateful_figure1.csv (see stratgym.figures.stateful_figure1).
"""

from __future__ import annotations

import argparse

from stratgym.figures import stateful_figure1


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), draw the figure, print the written paths; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/figures", help="output folder (default: results/figures)")
    parser.add_argument("--quick", action="store_true", help="small grid (T <= 3, half-budget splits)")
    parser.add_argument("--max-horizon", type=int, help="largest horizon T (default 6; 3 with --quick)")
    parser.add_argument("--resolution", type=int,
                        help="effort splits in steps of 1/RESOLUTION of the budget (default 4; 2 with --quick)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    paths = stateful_figure1(args.out, quick=args.quick, max_horizon=args.max_horizon, resolution=args.resolution,
                             progress=not args.no_progress)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
