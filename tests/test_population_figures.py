"""`stratgym reproduce persuasion-population`: the CSVs hold the solvers' numbers, PNGs are written beside them."""

from __future__ import annotations

import csv

import pytest

from stratgym.baselines.applicants import population_signaling
from stratgym.cli import REPRODUCTIONS, main
from stratgym.games.applicants import synthetic_applicants
from stratgym.population_figures import persuasion_population


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_population_figures_hold_the_solvers_numbers(tmp_path):
    paths = persuasion_population(tmp_path, prior_variances=(0.4,), max_applicants=12, n_timesteps=0, progress=False)
    for name in ("total_figure", "tradeoff_figure"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert paths[name].with_suffix(".csv").exists()
    expected = population_signaling(synthetic_applicants(prior_variance=0.4, max_applicants=12))
    totals = {row["policy"]: row for row in read(paths["total_data"])}
    for name, result in expected.items():
        assert float(totals[name]["total"]) == pytest.approx(result.total, rel=1e-8)
        assert float(totals[name]["recourse"]) == pytest.approx(result.metrics.overall["recourse"], rel=1e-8)
    tradeoff = {row["policy"]: row for row in read(paths["tradeoff_data"])}
    assert set(tradeoff) == set(expected)  # no learned policy with 0 training steps
    assert float(tradeoff["optimal signaling"]["principal"]) >= float(tradeoff["full revelation"]["principal"])
    assert not list(tmp_path.glob(".*.tmp")), "atomic writes leave no temporaries"


def test_the_cli_lists_and_validates_the_reproduction():
    assert "persuasion-population" in REPRODUCTIONS
    with pytest.raises(SystemExit):
        main(["reproduce", "persuasion-population", "--disparity", "nope"])


def test_bench_population_quick_prints_tables():
    from test_figures import ROOT, run_script

    before = (ROOT / "BENCHMARKS.md").read_bytes()
    stdout = run_script("bench_population.py", "--quick", "--no-progress")
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in stdout.splitlines()
            if line.startswith("| 1 |") or line.startswith("| 5 |")]
    assert [row[:2] for row in rows] == [["1", "40"], ["5", "200"]]  # K T (d + 1) binaries at T = 10
    assert "| step | per applicant | applicants / s |" in stdout
    assert (ROOT / "BENCHMARKS.md").read_bytes() == before  # without --write nothing is written
