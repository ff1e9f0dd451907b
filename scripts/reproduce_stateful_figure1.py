"""Reproduce Figure 1 of "Stateful Strategic Regression" (NeurIPS 2021) on the classroom game.

    python scripts/reproduce_stateful_figure1.py --out results/figures          # T = 1..6, quarter splits
    python scripts/reproduce_stateful_figure1.py --quick --out /tmp/fig         # T = 1..3, half splits (seconds)

Writes stateful_figure1.png and stateful_figure1.csv (see stratgym.figures.stateful_figure1).
"""

from __future__ import annotations

from stratgym.figures import stateful_figure1_main as main

if __name__ == "__main__":
    raise SystemExit(main())
