"""Shared fixtures: the repository's demo data and, when built, the `skintex` command."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
DEMO_STUDY = ROOT / "data" / "demo-study"


def skintex_command() -> Optional[str]:
    """The `skintex` binary: $SKINTEX_BIN, else target/release/skintex, else on PATH."""
    for candidate in [os.environ.get("SKINTEX_BIN"), str(ROOT / "target/release/skintex")]:
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("skintex")


@pytest.fixture(scope="session")
def cli() -> str:
    """The `skintex` command; in CI (CI=true) its absence is a failure, not a skip."""
    command = skintex_command()
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no skintex binary: set SKINTEX_BIN or build target/release/skintex")
        pytest.skip("no skintex binary (cargo build --release, or set SKINTEX_BIN)")
    return command


def run_cli(command: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([command, *args], capture_output=True, text=True, check=False)


def read_csv_rows(path: Path) -> List[Dict[str, str]]:
    """A CSV file as the csv module reads it: every cell a string, as written."""
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def same_number(cell: str, value: float, rel: float = 1e-6) -> bool:
    """A CSV cell and a DataFrame value agree: empty and NaN, or equal within `rel`."""
    if cell == "":
        return math.isnan(value)
    return math.isclose(float(cell), value, rel_tol=rel, abs_tol=0.0)
