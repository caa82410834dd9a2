"""`skintex.analyze` and `skintex.read_outputs` against the command's own CSV files."""

from __future__ import annotations

import math
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, read_csv_rows, run_cli, same_number

import skintex

PHANTOM = DEMO / "phantom-001.png"


@pytest.fixture(scope="module")
def demo_metrics() -> pd.DataFrame:
    return skintex.analyze([str(PHANTOM)], roi="full", px_per_mm=20, progress=False)


def test_analyze_equals_the_commands_metrics_csv(cli, tmp_path, demo_metrics):
    """The acceptance check: the DataFrame's columns and values are those of metrics.csv
    written by `skintex analyze` for the same photo and options."""
    done = run_cli(cli, "analyze", str(PHANTOM), "--roi", "full", "--px-per-mm", "20",
                   "--quiet", "--out", str(tmp_path / "cli"))
    assert done.returncode == 0, done.stderr
    rows = read_csv_rows(tmp_path / "cli" / "metrics.csv")
    assert list(demo_metrics.columns) == list(rows[0].keys())
    assert len(demo_metrics) == len(rows) == 1
    metric_columns = skintex.metric_columns()
    assert metric_columns and set(metric_columns) <= set(demo_metrics.columns)
    for name in demo_metrics.columns:
        cell, value = rows[0][name], demo_metrics[name].iloc[0]
        if name in metric_columns or name in ("zone_area_px", "zone_area_mm2", "px_per_mm"):
            assert same_number(cell, float(value)), (name, cell, value)
        elif name != "path":
            assert cell == value, (name, cell, value)
    for name in metric_columns:
        assert demo_metrics[name].dtype == np.float64, name


def test_out_writes_every_file_of_the_command_and_read_outputs_reads_them(tmp_path, demo_metrics):
    out = tmp_path / "run"
    metrics, images = skintex.analyze(PHANTOM, out=out, roi="full", px_per_mm=20,
                                      progress=False, return_images=True)
    for name in ["metrics.csv", "images.csv", "lines.csv", "scars.csv", "landmarks.csv",
                 "timings.csv", "columns.csv", "DATA_DICTIONARY.md", "run.json", "batch.json"]:
        assert (out / name).is_file(), name
    assert (out / "qc" / "phantom-001.jpg").is_file()
    pd.testing.assert_frame_equal(metrics, demo_metrics)
    tables = skintex.read_outputs(out)
    assert {"metrics", "images", "lines", "scars", "landmarks", "timings", "columns"} <= set(tables)
    pd.testing.assert_frame_equal(tables["metrics"], metrics)
    pd.testing.assert_frame_equal(tables["images"], images)
    assert images["status"].tolist() == ["ok"]
    assert images["width"].tolist() == [1000.0]
    lines = tables["lines"]
    assert len(lines) == int(metrics["lines_count"].iloc[0])
    assert lines["length_mm"].dtype == np.float64
    # Every data frame cell equals its CSV cell.
    for name in ["lines", "scars", "images"]:
        rows = read_csv_rows(out / f"{name}.csv")
        frame = tables[name]
        for i, row in enumerate(rows):
            for column, cell in row.items():
                value = frame[column].iloc[i]
                if isinstance(value, str):
                    assert value == cell, (name, column)
                else:
                    assert same_number(cell, float(value), rel=0), (name, column)
    # A second run into the same folder is the same run: allowed, same numbers.
    again = skintex.analyze(PHANTOM, out=out, roi="full", px_per_mm=20, progress=False)
    pd.testing.assert_frame_equal(again, metrics)


def test_missing_values_are_nan_with_their_reason(tmp_path):
    """Uncalibrated: the families in mm are NaN, never 0, and missing_reasons says why."""
    metrics = skintex.analyze([PHANTOM], roi="full", progress=False)
    row = metrics.iloc[0]
    rough = [c for c in skintex.metric_columns() if c.startswith("rough_")]
    assert rough and all(math.isnan(row[c]) for c in rough)
    assert "uncalibrated" in row["missing_reasons"]
    assert math.isnan(row["px_per_mm"]) and row["calibration"] == "none"
    tone = [c for c in skintex.metric_columns() if c.startswith("tone_")]
    assert not math.isnan(row[tone[0]])


def test_a_folder_with_a_corrupt_file_goes_on_and_returns_the_images_table(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(PHANTOM, folder / "a-good.png")
    (folder / "b-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    with pytest.warns(skintex.SkintexWarning, match="b-broken.png"):
        metrics, images = skintex.analyze(folder, roi="full", px_per_mm=20, progress=False,
                                          return_images=True)
    assert metrics["image_id"].tolist() == ["a-good"]
    assert images["image_id"].tolist() == ["a-good", "b-broken"]
    assert images["status"].tolist() == ["ok", "error"]
    error = images["error"].iloc[1]
    assert "b-broken.png" in error and "png" in error.lower()
    assert math.isnan(images["width"].iloc[1])


def test_jobs_do_not_change_the_numbers(demo_metrics):
    one = skintex.analyze([PHANTOM], roi="full", px_per_mm=20, jobs=1, progress=False)
    pd.testing.assert_frame_equal(one, demo_metrics)


def test_manifest_columns_are_carried(tmp_path):
    shutil.copy(PHANTOM, tmp_path / "p.png")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,image_id,px_per_mm,subject,days_from_baseline\n"
                        "p.png,007,20,0042,14\n")
    metrics = skintex.analyze(manifest=manifest, roi="full", progress=False)
    assert metrics["image_id"].tolist() == ["007"]
    assert metrics["subject"].tolist() == ["0042"]
    assert metrics["days_from_baseline"].tolist() == [14.0]
    assert metrics["calibration"].tolist() == ["manifest"]


def test_the_gil_is_released_while_images_are_analysed():
    """A Python thread keeps running while another analyses an image."""
    image = skintex.read_image(PHANTOM)
    ticks = 0
    worker = threading.Thread(
        target=skintex.analyze_image, args=(image,),
        kwargs={"roi": "full", "px_per_mm": 20, "jobs": 1},
    )
    worker.start()
    started = time.perf_counter()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    worker.join()
    assert elapsed > 0.2 and ticks > 50, (elapsed, ticks)


def test_a_cancelled_run_stops_and_says_what_is_saved(tmp_path):
    """What Ctrl-C does: the run stops starting images and says how many are saved."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        shutil.copy(PHANTOM, folder / f"p{i}.png")
    out = tmp_path / "out"
    run = skintex._native.start_analysis(
        ["skintex", "analyze", str(folder), "--roi", "full", "--px-per-mm", "20", "--jobs", "1",
         "--no-qc", "--quiet", "--out", str(out)])
    run.cancel()
    with pytest.raises(skintex.SkintexError, match="interrupted"):
        run.result()
    assert not (out / "metrics.csv").exists()
    resumed = skintex.analyze(folder, out=out, roi="full", px_per_mm=20, qc=False, resume=True,
                              progress=False)
    assert len(resumed) == 4


def test_progress_bar_only_where_someone_watches(monkeypatch):
    from skintex import _progress

    assert isinstance(_progress.progress_bar(True), _progress._NoBar)  # pytest: no terminal
    monkeypatch.setattr(_progress, "_in_terminal", lambda: True)
    assert isinstance(_progress.progress_bar(False), _progress._NoBar)
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)  # tqdm not installed
    bar = _progress.progress_bar(True)
    assert isinstance(bar, _progress._LineBar)
    bar.update(1, 2)
    bar.close()
