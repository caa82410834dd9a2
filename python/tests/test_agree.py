"""`skintex.agree` (issue 19): the tables equal those of the `skintex agree` command."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import read_csv_rows, run_cli, same_number

import skintex


def test_agree_tables_equal_the_commands(cli, tmp_path):
    phantoms, truth = tmp_path / "phantoms", tmp_path / "truth"
    done = run_cli(cli, "phantom", "--preset", "classic", "--size", "400", "--count", "2",
                   "--seed", "3", "--out", str(phantoms), "--annotations", str(truth))
    assert done.returncode == 0, done.stderr
    results = tmp_path / "results"
    skintex.analyze(phantoms, out=results, roi="full", px_per_mm=20, save_masks=True,
                    qc=False, progress=False)
    assert (results / "masks" / "phantom-001_lines.png").is_file()
    tables = skintex.agree(results, lines_masks=truth, scars=truth / "scars.csv",
                           tolerance_px=1, out=tmp_path / "py")
    assert set(tables) == {"agreement", "summary"}
    assert (tmp_path / "py" / "agreement.html").is_file()
    done = run_cli(cli, "agree", "--results", str(results), "--lines-masks", str(truth),
                   "--scars", str(truth / "scars.csv"), "--tolerance-px", "1",
                   "--out", str(tmp_path / "cli"))
    assert done.returncode == 0, done.stderr
    for name in ["agreement", "summary"]:
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
    agreement = tables["agreement"]
    assert agreement["lines_dice"].dtype == np.float64
    assert agreement["scars_f1"].notna().all()
    with pytest.raises(skintex.UsageError, match="lines_mask"):
        skintex.agree(results)
