"""The figure reproductions and benchmark scripts: smoke runs in a subprocess whose CSV numbers must obey the
theorems, and the pieces the figures rely on (grid pruning, atomic writes, BENCHMARKS.md sections)."""

from __future__ import annotations

import csv
import importlib.util
import itertools
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratgym.baselines.stateful import incentivizing_rule
from stratgym.figures import grid_membership, persuasion_grid, split_grid
from stratgym.games.stateful import best_response, classroom, random_game
from stratgym.io import write_atomic

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOL = 1e-7


def run_script(name: str, *args: str) -> str:
    completed = subprocess.run([sys.executable, str(SCRIPTS / name), *args], cwd=ROOT, capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC


def no_leftovers(folder: Path) -> bool:
    return not any(p.name.endswith(".tmp") for p in folder.iterdir())


# ---------------------------------------------------------------------------------------------
# Stateful Figure 1
# ---------------------------------------------------------------------------------------------

def classroom_round_ok(split: tuple[float, float, float], remaining: int) -> bool:
    """Hand-derived (independent of the LP) for classroom, effort order (copy, study, lookup): in a round with
    ``remaining`` rounds left, study is worth 0.4 * remaining, copy theta_test, lookup 1 - theta_test, all > 0, so
    the whole budget is spent; with one round left study (0.4 < max(theta, 1 - theta)) is never used; with two
    left (0.8) copy and lookup cannot both be used (that needs theta = 0.5 < 0.8); with three or more
    (>= 1.2 > 1) only study."""
    copy, study, lookup = split
    if abs(copy + study + lookup - 1.0) > 1e-9:
        return False
    if remaining == 1:
        return study == 0.0
    if remaining == 2:
        return not (copy > 0 and lookup > 0)
    return study == 1.0


def test_stateful_figure1_script_csv_obeys_theorems(tmp_path):
    stdout = run_script("reproduce_stateful_figure1.py", "--quick", "--out", str(tmp_path), "--no-progress")
    assert "stateful_figure1.png" in stdout
    assert_png(tmp_path / "stateful_figure1.png")
    assert no_leftovers(tmp_path)
    rows = read_csv(tmp_path / "stateful_figure1.csv")
    grid = [r for r in rows if r["source"] == "grid"]
    milp = {int(r["horizon"]): float(r["avg_study"]) for r in rows if r["source"] == "milp"}
    assert sorted(milp) == [1, 2, 3]
    best_grid = defaultdict(float)
    for row in grid:
        T = int(row["horizon"])
        policy = [tuple(float(x) for x in part.split("/")) for part in row["policy_copy_study_lookup"].split(";")]
        assert len(policy) == T
        study, cheat = float(row["avg_study"]), float(row["avg_cheat"])
        assert study == pytest.approx(np.mean([p[1] for p in policy]), abs=1e-9)
        assert cheat == pytest.approx(np.mean([p[0] + p[2] for p in policy]), abs=1e-9)
        expected = all(classroom_round_ok(split, T - t) for t, split in enumerate(policy))
        assert bool(int(row["incentivizable"])) == expected, row
        if expected:
            assert study + cheat == pytest.approx(1.0)  # on the Pareto line
            best_grid[T] = max(best_grid[T], study)
    for T, study in milp.items():
        assert study == pytest.approx((T - 1) / T, abs=1e-9)  # classroom: study in rounds 1..T-1
        assert best_grid[T] == pytest.approx(study, abs=1e-9)  # the pure optimum is a grid policy
    # Nothing the pruning skipped was incentivizable: the hand-derived count over the full grid S^T matches.
    splits = [s for s in itertools.product((0.0, 0.5, 1.0), repeat=3) if sum(s) <= 1.0]
    for T in milp:
        expected_count = np.prod([sum(classroom_round_ok(s, T - t) for s in splits) for t in range(T)])
        assert sum(int(r["incentivizable"]) for r in grid if int(r["horizon"]) == T) == expected_count


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_suffix_of_a_best_response_is_incentivizable(seed):
    """The lemma grid_membership prunes with: a best response's last T-1 rounds are incentivizable for T-1 rounds."""
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=3)
    theta = rng.dirichlet(np.ones(game.n_features), size=game.horizon)
    effort = best_response(game, theta).effort
    assert incentivizing_rule(game.replace(horizon=2), effort[1:]) is not None


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_grid_membership_matches_exhaustive_membership(seed):
    game = random_game(np.random.default_rng(seed), horizon=2)
    splits = split_grid(game.n_efforts, 1)
    grids = grid_membership(game, 2, splits)
    tested = {policy.tobytes(): verdict for policy, verdict in zip(grids[1].policies, grids[1].incentivizable)}
    for first, second in itertools.product(splits, repeat=2):
        policy = np.stack([first, second]) * game.budget
        exhaustive = incentivizing_rule(game, policy) is not None
        assert tested.get(policy.tobytes(), False) == exhaustive


def test_split_grid_and_grid_membership_reject_bad_input():
    assert split_grid(3, 2).shape == (10, 3) and split_grid(3, 2, spend_all=True).shape == (6, 3)
    with pytest.raises(ValueError, match="resolution"):
        split_grid(3, 0)
    with pytest.raises(ValueError, match="linear"):
        grid_membership(classroom(2, conversion="sqrt"), 2, split_grid(3, 1))
    with pytest.raises(ValueError, match="splits"):
        grid_membership(classroom(2), 2, [[0.8, 0.8, 0.0]])


# ---------------------------------------------------------------------------------------------
# Persuasion Figures 2 and 3
# ---------------------------------------------------------------------------------------------

def test_persuasion_figures_script_csv_obeys_theorems(tmp_path):
    run_script("reproduce_persuasion_figures.py", "--quick", "--out", str(tmp_path), "--no-progress")
    for name in ("persuasion_figure2.png", "persuasion_figure3.png"):
        assert_png(tmp_path / name)
    assert no_leftovers(tmp_path)
    grid = read_csv(tmp_path / "persuasion_grid.csv")
    assert len(grid) == 3 * 2 * 2
    for row in grid:
        value = {k: float(v) for k, v in row.items()}
        # Optimal signaling is never below either baseline (both are feasible BIC schemes) ...
        assert value["optimal"] >= max(value["full_revelation"], value["no_information"]) - TOL
        # ... and a BIC scheme never leaves the agent worse off than no information.
        assert value["optimal_agent"] >= value["no_information_agent"] - TOL
    figure2 = read_csv(tmp_path / "persuasion_figure2.csv")
    assert figure2 == [row for row in grid if float(row["prior_variance"]) == 0.4]
    summaries = read_csv(tmp_path / "persuasion_figure3.csv")
    # The poster's Figure 3 claim: the gap over both baselines grows with the prior variance (on the --quick grid,
    # sigma^2 = 0.1, 0.4, 1: gaps 0.34, 0.58, 0.62).
    by_variance = sorted(summaries, key=lambda row: float(row["prior_variance"]))
    assert [float(row["prior_variance"]) for row in by_variance] == [0.1, 0.4, 1.0]
    gaps = [float(row["gap_over_best_baseline"]) for row in by_variance]
    assert all(later > earlier + 0.01 for earlier, later in zip(gaps, gaps[1:])), gaps
    for summary in summaries:
        chosen = [row for row in grid if row["prior_variance"] == summary["prior_variance"]]
        assert int(summary["n_configurations"]) == len(chosen) == 4
        for key in ("optimal", "full_revelation", "no_information"):
            assert float(summary[key]) == pytest.approx(np.mean([float(row[key]) for row in chosen]), abs=1e-9)
        baseline = max(float(summary["full_revelation"]), float(summary["no_information"]))
        assert float(summary["gap_over_best_baseline"]) == pytest.approx(float(summary["optimal"]) - baseline)
        assert float(summary["gap_over_best_baseline"]) >= -TOL


def test_persuasion_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="dataset"):
        persuasion_grid([0.4], [1.0], [1.0], dataset="heloc")
    with pytest.raises(ValueError, match="prior_variances"):
        persuasion_grid([-0.4], [1.0], [1.0])
    with pytest.raises(ValueError, match="cost_scales"):
        persuasion_grid([0.4], [1.0], [])


# ---------------------------------------------------------------------------------------------
# Benchmark scripts
# ---------------------------------------------------------------------------------------------

def test_bench_stateful_quick_prints_tables():
    before = (ROOT / "BENCHMARKS.md").read_bytes() if (ROOT / "BENCHMARKS.md").exists() else None
    stdout = run_script("bench_stateful.py", "--quick", "--no-progress")
    assert "| env | kind | steps/s (median) | × CartPole-v1 | target |" in stdout
    for env_id in ("StatefulCommitment-v0", "StatefulPrincipal-v0", "StatefulAgent-v0"):
        assert f"`stratgym/{env_id}` | scalar" in stdout
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in stdout.splitlines()
             if line.startswith("|")]
    brute = [row for row in cells if len(row) == 7 and row[0] in ("2", "3")]
    assert len(brute) == 6  # T = 2, 3 x (classroom, classroom without retention, one random instance)
    assert all(row[-1] == "yes" for row in brute)  # the MILP and brute force agree on the optimum
    after = (ROOT / "BENCHMARKS.md").read_bytes() if (ROOT / "BENCHMARKS.md").exists() else None
    assert before == after  # without --write nothing is written


def test_bench_persuasion_quick_prints_tables():
    stdout = run_script("bench_persuasion.py", "--quick", "--no-progress")
    assert "| env | kind | steps/s (median) | × CartPole-v1 | target |" in stdout
    assert "| actions A | seed k | regions |" in stdout and "| instance | exact optimum | samples N |" in stdout
    lp_rows = [line for line in stdout.splitlines() if line.startswith(("| 2 |", "| 4 |", "| 6 |"))]
    assert len(lp_rows) == 3
    # The instance rule: a real persuasion gap, so no instance sits at the degenerate values 0 or 1.
    values = [float(line.strip("|").split("|")[6]) for line in lp_rows]
    assert all(0.05 < value < 0.95 for value in values)


def test_update_section_replaces_only_its_markers(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("_bench_common", SCRIPTS / "_bench_common.py")
    common = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "_bench_common", common)  # dataclasses look their module up
    spec.loader.exec_module(common)
    path = tmp_path / "BENCHMARKS.md"
    common.update_section("a", "first", path)  # created
    path.write_text("intro\n\n" + path.read_text() + "\nkeep this\n")
    common.update_section("b", "other", path)  # appended
    common.update_section("a", "second $1 \\1", path)  # replaced (no regex escapes interpreted)
    text = path.read_text()
    assert text.startswith("intro\n") and "keep this" in text
    assert "<!-- a:start -->\nsecond $1 \\1\n<!-- a:end -->" in text and "first" not in text
    assert text.count("<!-- b:start -->\nother\n<!-- b:end -->") == 1
    assert no_leftovers(tmp_path)


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path):
    path = write_atomic(tmp_path / "sub" / "data.csv", "old")
    with pytest.raises(TypeError):
        write_atomic(path, object())
    assert path.read_text() == "old"
    assert no_leftovers(path.parent)
