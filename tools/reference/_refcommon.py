"""Shared helpers for the reference-fixture generators in tools/reference/.

Not part of skintex itself: these scripts run once, in a throw-away venv, to
produce JSON/CSV fixtures that the Rust tests compare against.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "reference"


def provenance(script_path: str, packages: list[str]) -> dict:
    versions = {}
    for p in packages:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    rel = os.path.relpath(Path(script_path).resolve(), REPO_ROOT)
    return {
        "command": f"python {rel}",
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "package_versions": versions,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "generator": rel,
    }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def write_csv_float(path: Path, arr) -> None:
    """Plain CSV, one image row per line, no header, Python repr() of each
    float64 (shortest string that round-trips exactly; Rust's `str::parse::<f64>`
    reads every such string back to the identical bit pattern)."""
    with open(path, "w", newline="\n") as f:
        for row in arr:
            f.write(",".join(repr(float(v)) for v in row))
            f.write("\n")


def write_csv_int(path: Path, arr) -> None:
    with open(path, "w", newline="\n") as f:
        for row in arr:
            f.write(",".join(str(int(v)) for v in row))
            f.write("\n")


def clean(obj):
    """Convert numpy scalars/arrays to plain Python and NaN/inf to None so the
    output is strict JSON."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def write_json(path: Path, obj) -> None:
    with open(path, "w", newline="\n") as f:
        json.dump(clean(obj), f, indent=1, allow_nan=False)
        f.write("\n")


def rel_diff(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def log(*a):
    print(*a, file=sys.stderr)
