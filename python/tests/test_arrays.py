"""`skintex.analyze_image`: pixels in memory, in every accepted dtype, through the same path
as a file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO

import skintex

PHANTOM = DEMO / "phantom-001.png"
KEYS = ["image_id", "path"]


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    return skintex.read_image(PHANTOM)


@pytest.fixture(scope="module")
def from_file() -> pd.DataFrame:
    return skintex.analyze([PHANTOM], roi="full", px_per_mm=20, progress=False)


def measured(image, **options) -> pd.DataFrame:
    options = {"roi": "full", "px_per_mm": 20, "image_id": "phantom-001", **options}
    return skintex.analyze_image(image, **options)


def test_read_image_gives_the_upright_rgb_pixels(pixels):
    assert pixels.shape == (1000, 1000, 3) and pixels.dtype == np.uint8
    assert pixels.flags.writeable


def test_uint8_array_gives_the_numbers_of_the_file(pixels, from_file):
    """The acceptance check: the same pixels as an array give the same numbers."""
    in_memory = measured(pixels)
    assert list(in_memory.columns) == list(from_file.columns)
    pd.testing.assert_frame_equal(in_memory.drop(columns="path"), from_file.drop(columns="path"))
    assert in_memory["path"].tolist() == ["phantom-001"]


def test_uint16_rgba_views_and_byte_orders_read_as_the_same_photo(pixels, from_file):
    expected = from_file.drop(columns=KEYS)
    wide = pixels.astype(np.uint16) * 257
    alpha = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    padded = np.zeros((1000, 1010, 3), np.uint8)
    padded[:, 5:1005] = pixels
    for image in [
        wide,  # 16-bit sRGB
        wide.astype(">u2"),  # big-endian
        alpha,  # alpha is ignored
        padded[:, 5:1005],  # a view that is not contiguous
    ]:
        got = measured(image).drop(columns=KEYS)
        pd.testing.assert_frame_equal(got, expected)


def test_float_linear_light(pixels, from_file):
    """float32 linear RGB (colour='linear'), as a floating-point TIFF is read: the sRGB
    decoding done here in float64 differs from skintex's f32 tables by an ulp at most, so
    the numbers agree closely; float64 is converted to float32."""
    encoded = pixels / 255.0
    linear = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    got32 = measured(linear.astype(np.float32), colour="linear")
    got64 = measured(linear, colour="linear")
    pd.testing.assert_frame_equal(got32, got64)
    tone = [c for c in skintex.metric_columns() if c.startswith("tone_")]
    np.testing.assert_allclose(got32[tone].to_numpy(), from_file[tone].to_numpy(), rtol=1e-4)
    rough = [c for c in skintex.metric_columns() if c.startswith("rough_")]
    np.testing.assert_allclose(got32[rough].to_numpy(), from_file[rough].to_numpy(), rtol=1e-3)


def test_nan_pixels_are_left_out(pixels):
    encoded = pixels / 255.0
    linear = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    linear = linear.astype(np.float32)
    linear[:100] = np.nan
    tables = skintex.analyze_image(linear, roi="full", px_per_mm=20, colour="linear",
                                   return_tables=True)
    assert tables["images"]["invalid_px"].tolist() == [100_000.0]
    assert tables["metrics"]["zone_area_px"].tolist() == [900_000.0]


def test_grey_arrays_are_read(pixels):
    grey = pixels[:, :, 1]
    got = measured(grey)
    tables = skintex.analyze_image(grey, roi="full", px_per_mm=20, return_tables=True)
    assert tables["images"]["channels"].tolist() == ["grey"]
    assert tables["images"]["format"].tolist() == ["array"]
    pd.testing.assert_frame_equal(tables["metrics"].drop(columns=KEYS), got.drop(columns=KEYS))
    rough = [c for c in skintex.metric_columns() if c.startswith("rough_")]
    assert rough and got[rough].notna().all(axis=None)


@pytest.mark.parametrize(
    "image, colour, error, match",
    [
        (np.zeros((64, 64, 3), np.int32), None, TypeError, "int32"),
        (np.zeros((64, 64, 3), np.float32), None, ValueError, "colour='linear'"),
        (np.zeros((64, 64, 3), np.uint8), "linear", ValueError, "sRGB"),
        (np.zeros((64, 64, 3), np.uint8), "lab", ValueError, "colour must be"),
        (np.zeros((4, 64, 64, 3), np.uint8), None, ValueError, "shape"),
        (np.zeros((64, 64, 2), np.uint8), None, ValueError, "2 channels"),
        (np.zeros((64, 64), np.float32), "linear", ValueError, "1 channels of float32"),
    ],
)
def test_arrays_that_are_not_images_are_refused(image, colour, error, match):
    with pytest.raises(error, match=match):
        skintex.analyze_image(image, roi="full", colour=colour)


def test_an_image_that_cannot_be_analysed_raises_naming_it(pixels):
    with pytest.raises(skintex.ImageError, match="close-up-7: .*no face"):
        skintex.analyze_image(pixels, image_id="close-up-7")


def test_config_as_a_dict_or_a_file(pixels, from_file, tmp_path):
    as_dict = measured(pixels, config={"height": {"cutoff_mm": 4.0}})
    config = tmp_path / "params.toml"
    config.write_text("[height]\ncutoff_mm = 4.0\n")
    pd.testing.assert_frame_equal(measured(pixels, config=config), as_dict)
    assert as_dict["rough_sq"].iloc[0] != from_file["rough_sq"].iloc[0]
    with pytest.raises(skintex.UsageError, match="nope"):
        measured(pixels, config={"tone": {"nope": 1.0}})
    with pytest.raises(skintex.UsageError, match="height.cutoff_mm"):
        measured(pixels, config={"height": {"cutoff_mm": -1.0}})
    with pytest.raises(skintex.UsageError, match="roi"):
        measured(pixels, roi="cheek")
    with pytest.raises(skintex.UsageError, match="px-per-mm"):
        measured(pixels, px_per_mm=-3)
