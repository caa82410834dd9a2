"""`skintex.study`, `skintex.phantom` and the errors of `skintex.analyze`."""

from __future__ import annotations

import csv
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, DEMO_STUDY, read_csv_rows, run_cli, same_number

import skintex


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """The first two subjects of the demo study: its photos and manifest in a folder, analysed
    into `out`."""
    folder = tmp_path_factory.mktemp("study")
    with open(DEMO_STUDY / "study.csv", newline="") as file:
        rows = [r for r in csv.DictReader(file) if r["subject"] in ("S01", "S02")]
    with open(folder / "study.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        shutil.copy(DEMO_STUDY / row["path"], folder / row["path"])
    out = folder / "out"
    skintex.analyze(manifest=folder / "study.csv", out=out, progress=False)
    return folder / "study.csv", out


def test_study_tables_equal_the_commands(cli, small_study, tmp_path):
    manifest, out = small_study
    tables = skintex.study(out, manifest, out=tmp_path / "py")
    assert {"changes", "stats", "alignment"} <= set(tables)
    assert (tmp_path / "py" / "report.html").is_file()
    done = run_cli(cli, "study", "--metrics", str(out / "metrics.csv"), "--manifest",
                   str(manifest), "--out", str(tmp_path / "cli"), "--quiet")
    assert done.returncode == 0, done.stderr
    for name in ["changes", "stats"]:
        rows = read_csv_rows(tmp_path / "cli" / f"{name}.csv")
        frame = tables[name]
        assert list(frame.columns) == list(rows[0])
        assert len(frame) == len(rows) > 0
        for i, row in enumerate(rows):
            for column, cell in row.items():
                value = frame[column].iloc[i]
                if isinstance(value, str):
                    assert value == cell, (name, column, i)
                else:
                    assert same_number(cell, float(value), rel=0), (name, column, i)
    stats = tables["stats"]
    assert stats["n"].dtype == np.float64 and stats["p_t"].dtype == np.float64
    changes = tables["changes"]
    assert set(changes["subject"]) == {"S01", "S02"}


def test_study_of_a_metrics_data_frame(small_study):
    manifest, out = small_study
    from_folder = skintex.study(out, manifest)
    metrics = skintex.read_outputs(out)["metrics"]
    from_frame = skintex.study(metrics, manifest)
    # A metrics frame carries no capture values (they are in the folder's images.csv), so the
    # comparability of its follow-ups is unknown, with the reason; every other cell agrees.
    comparability = ["comparable", "comparability_reasons"]
    pd.testing.assert_frame_equal(
        from_frame["changes"].drop(columns=comparability),
        from_folder["changes"].drop(columns=comparability),
    )
    assert (from_frame["changes"]["comparable"] == "").all()
    assert from_frame["changes"]["comparability_reasons"].str.contains("images.csv").all()
    assert from_folder["changes"]["comparable"].isin(["true", "false"]).all()
    pd.testing.assert_frame_equal(from_frame["stats"], from_folder["stats"])


def test_study_primary_test_is_passed_through(small_study, tmp_path):
    manifest, out = small_study
    for test, name in [("t", "paired t"), ("wilcoxon", "Wilcoxon")]:
        folder = tmp_path / test
        skintex.study(out, manifest, out=folder, test=test)
        provenance = json.loads((folder / "study.json").read_text())
        assert provenance["primary_test"].startswith(name), provenance["primary_test"]
    with pytest.raises(skintex.UsageError, match="wilcoxon"):
        skintex.study(out, manifest, test="anova")


def test_study_design_errors_name_the_line(small_study, tmp_path):
    manifest, out = small_study
    bad = tmp_path / "study.csv"
    text = manifest.read_text().splitlines()
    bad.write_text("\n".join([text[0], text[1], text[1]]) + "\n")  # a duplicate row
    with pytest.raises(skintex.StudyError, match="line 3"):
        skintex.study(out, bad)
    with pytest.raises(skintex.StudyError, match="max-alignment-mm"):
        skintex.study(out, manifest, max_alignment_mm=-1)


def test_phantom_rebuilds_the_demo_phantom_and_its_truth():
    image, truth = skintex.phantom(seed=42, preset="classic")
    np.testing.assert_array_equal(image, skintex.read_image(DEMO / "phantom-001.png"))
    expected = json.loads((DEMO / "phantom-001.json").read_text())
    assert truth["wrinkles"] == expected["wrinkles"]
    assert truth["scars"] == expected["scars"]
    assert truth["px_per_mm"] == 20.0


def test_phantom_options(tmp_path):
    image, truth = skintex.phantom(seed=3, wrinkles=1, icepick=1, boxcar=0, rolling=0,
                                   px_per_mm=12, fov_mm=20, out=tmp_path)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert truth["preset"] == "realistic" and truth["px_per_mm"] == 12
    assert len(truth["wrinkles"]) <= 1 and all(s["kind"] == "icepick" for s in truth["scars"])
    assert (tmp_path / "phantom-001.png").is_file()
    metrics = skintex.analyze_image(image, roi="full", px_per_mm=truth["px_per_mm"])
    assert len(metrics) == 1
    with pytest.raises(skintex.UsageError, match="preset"):
        skintex.phantom(preset="cartoon")


def test_bad_inputs_raise_naming_the_file(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(skintex.UsageError, match="nope.png"):
        skintex.analyze([missing], progress=False)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(skintex.ImageError, match="broken.jpg") as raised:
        with pytest.warns(skintex.SkintexWarning):
            skintex.analyze([broken], roi="full", progress=False)
    images = raised.value.images
    assert images["status"].tolist() == ["error"]
    with pytest.raises(skintex.ImageError, match="broken.jpg"):
        skintex.read_image(broken)
    with pytest.raises(skintex.UsageError, match="px-per-mm"):
        skintex.analyze([DEMO / "phantom-001.png"], px_per_mm=-3, progress=False)
    with pytest.raises(skintex.UsageError, match="not a folder"):
        skintex.read_outputs(tmp_path / "nothing-here")


def test_an_out_folder_of_another_run_is_refused(tmp_path):
    out = tmp_path / "out"
    skintex.analyze([DEMO / "phantom-001.png"], out=out, roi="full", progress=False)
    with pytest.raises(skintex.UsageError, match="--overwrite"):
        skintex.analyze([DEMO / "phantom-002.png"], out=out, roi="full", progress=False)
    metrics = skintex.analyze([DEMO / "phantom-002.png"], out=out, roi="full", overwrite=True,
                              progress=False)
    assert metrics["image_id"].tolist() == ["phantom-002"]
    assert math.isnan(metrics["rough_sq"].iloc[0])
