"""skintex: trustworthy numbers from clinical skin photos, as pandas DataFrames.

Skin texture (ISO 25178 roughness, GLCM), fine lines, atrophic scars and tone per image and zone,
in millimetres from the image calibration. Every function runs the skintex library (Rust) as the
``skintex`` command does: the same parameters, the same numbers, the same tables.

>>> import skintex
>>> metrics = skintex.analyze(["data/demo/phantom-001.png"], roi="full", px_per_mm=20)
>>> metrics[["zone", "lines_length_mm", "rough_sq"]]

Missing values are NaN (never 0), with the reason in the ``missing_reasons`` column. Numbers are
those of the CSV files (7 significant digits). Text columns (ids, paths, manifest columns) are
strings; a column is a number column when the data dictionary gives it a unit.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _native
from ._native import (
    ImageError,
    OutputError,
    SkintexError,
    StudyError,
    UsageError,
    __version__,
)
from ._progress import progress_bar

__all__ = [
    "ImageError",
    "OutputError",
    "SkintexError",
    "SkintexWarning",
    "StudyError",
    "UsageError",
    "__version__",
    "agree",
    "analyze",
    "analyze_image",
    "metric_columns",
    "phantom",
    "read_image",
    "read_outputs",
    "study",
]

PathLike = Union[str, "os.PathLike[str]"]
Config = Union[PathLike, Mapping[str, Mapping[str, Any]], None]


class SkintexWarning(UserWarning):
    """A message of the library during a run: an image that failed (file and reason), or advice
    about the batch (e.g. most images have no face: use ``roi="full"``)."""


def _warn_messages() -> None:
    for message in _native.take_messages():
        warnings.warn(message, SkintexWarning, stacklevel=3)


def _frame(columns: List[Tuple[str, Any]]) -> pd.DataFrame:
    """A DataFrame from native columns: bytes of float64 (numbers) or a list of str (text)."""
    data: Dict[str, Any] = {}
    for name, values in columns:
        if isinstance(values, bytes):
            data[name] = np.frombuffer(values, dtype=np.float64).copy()
        else:
            data[name] = pd.Series(values, dtype=str)
    return pd.DataFrame(data)


def _frames(tables: List[Tuple[str, List[Tuple[str, Any]]]]) -> Dict[str, pd.DataFrame]:
    return {name: _frame(columns) for name, columns in tables}


def metric_columns() -> List[str]:
    """The metric columns of ``metrics.csv`` in order (``rough_*``, ``lines_*``, ...), as this
    version of skintex writes them. Select them with ``metrics[skintex.metric_columns()]``."""
    return [name for name, _unit, _description in _native.metric_columns()]


def read_outputs(out: PathLike) -> Dict[str, pd.DataFrame]:
    """Every table of a skintex output folder, by name without ``.csv``.

    Parameters
    ----------
    out
        A folder written by ``skintex analyze``/``merge``/``study`` (or :func:`analyze`).

    Returns
    -------
    dict
        ``metrics``, ``images``, ``lines``, ``scars``, ``landmarks``, ``timings``, ``columns``
        (the data dictionary) and the study's tables (``changes``, ``stats``, ``alignment``,
        ...) when present. Number columns are float64 with NaN for empty cells.

    Raises
    ------
    UsageError
        ``out`` is not a folder.
    OutputError
        A table cannot be read.
    """
    return _frames(_native.read_tables(os.fspath(out)))


def _config_file(config: Config, folder: str) -> Optional[str]:
    """A config file path for the command line: ``config`` itself, or a dict written as TOML
    into ``folder``."""
    if config is None:
        return None
    if isinstance(config, Mapping):
        path = os.path.join(folder, "config.toml")
        Path(path).write_text(_native.config_toml(json.dumps(config)), encoding="utf-8")
        return path
    return os.fspath(config)


def _wait(run: Any, wanted: bool) -> Tuple[int, int, int]:
    """Wait for an analysis started by ``_native.start_analysis``, drawing its progress. Ctrl-C
    (KeyboardInterrupt) stops it: images in flight finish and are stored for ``resume``."""
    bar = progress_bar(wanted)
    try:
        while not run.wait(0.1):
            bar.update(*run.progress())
        bar.update(*run.progress())
    except KeyboardInterrupt:
        run.cancel()
        while not run.wait(0.5):
            pass
        try:
            run.result()
        except SkintexError as stopped:
            raise KeyboardInterrupt(str(stopped)) from None
        raise
    finally:
        bar.close()
    return run.result()


def analyze(
    inputs: Union[PathLike, Sequence[PathLike], None] = None,
    *,
    out: Optional[PathLike] = None,
    roi: Literal["face", "full"] = "face",
    px_per_mm: Optional[float] = None,
    manifest: Optional[PathLike] = None,
    config: Config = None,
    jobs: Optional[int] = None,
    progress: bool = True,
    qc: Optional[bool] = None,
    save_masks: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    return_images: bool = False,
) -> Union[pd.DataFrame, Tuple[pd.DataFrame, pd.DataFrame]]:
    """Analyse photos (files, folders or a manifest) as ``skintex analyze`` does.

    Parameters
    ----------
    inputs
        Image files and/or folders (walked recursively, sorted; jpg, png, tif). Not with
        ``manifest``.
    out
        Output folder: every file of ``skintex analyze --out`` is written there (tables,
        ``run.json``, records for ``resume``, QC pictures). Without it the run uses a temporary
        folder, deleted afterwards, and writes no QC pictures.
    roi
        ``"face"`` measures the face zones (face models); ``"full"`` the whole image as one zone
        (close-ups). A manifest column ``roi`` overrides it per image.
    px_per_mm
        Calibration for every image, pixels per millimetre (overrides the manifest column).
        Without any calibration, columns in mm are NaN with the reason ``uncalibrated``.
    manifest
        CSV manifest: column ``path`` required, ``image_id``, ``px_per_mm``, ``roi`` optional,
        every other column carried into the tables (as text; ``days_from_baseline``,
        ``needle_depth_mm`` and ``session_count`` as numbers).
    config
        Analysis parameters: a TOML file (``skintex config --default``) or a dict of sections,
        e.g. ``{"lines": {"min_length_mm": 2.0}}``; checked as the command checks them.
    jobs
        Threads, and images analysed at a time (default: all cores). The GIL is released while
        images are analysed.
    progress
        Show a progress bar (tqdm when installed) in a terminal or a notebook.
    qc
        Write QC pictures (``qc/<image_id>.jpg``); default: when ``out`` is given.
    save_masks
        As ``--save-masks``: also write ``masks/<image_id>_lines.png`` and
        ``masks/<image_id>_zones.png`` into ``out`` (for :func:`agree`).
    resume, overwrite
        As ``--resume`` and ``--overwrite``: reuse the images already finished in ``out``, or
        clear the skintex outputs already there. Without either, an ``out`` holding another
        run's outputs is refused (``UsageError``).
    return_images
        Also return the images table (one row per input: ``status``, ``error``, format, size,
        calibration, faces found).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
        The metrics table (one row per image and zone; the columns and values of
        ``metrics.csv``), and with ``return_images`` the images table.

    Raises
    ------
    UsageError
        Bad arguments, configuration, inputs (a file that does not exist) or output folder.
    ImageError
        No image could be analysed (the message names each file and reason; the exception's
        ``images`` attribute holds the images table). When only some fail, each failure is a
        :class:`SkintexWarning` and the batch goes on.
    OutputError
        The outputs could not be written.
    KeyboardInterrupt
        Interrupted: the images in flight finish and are stored in ``out``; run again with
        ``resume=True`` to go on.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    with tempfile.TemporaryDirectory(prefix="skintex-") as scratch:
        folder = os.fspath(out) if out is not None else os.path.join(scratch, "out")
        argv = ["skintex", "analyze", "--quiet", "--out", folder, "--roi", roi]
        argv += [os.fspath(p) for p in inputs or []]
        if manifest is not None:
            argv += ["--manifest", os.fspath(manifest)]
        if px_per_mm is not None:
            argv += ["--px-per-mm", repr(float(px_per_mm))]
        config_path = _config_file(config, scratch)
        if config_path is not None:
            argv += ["--config", config_path]
        if jobs is not None:
            argv += ["--jobs", str(int(jobs))]
        if not (qc if qc is not None else out is not None):
            argv.append("--no-qc")
        if save_masks:
            argv.append("--save-masks")
        if resume:
            argv.append("--resume")
        if overwrite:
            argv.append("--overwrite")
        _native.take_messages()
        try:
            run = _native.start_analysis(argv)
            _total, ok, _error = _wait(run, progress)
        finally:
            _warn_messages()
        tables = read_outputs(folder)
    metrics, images = tables["metrics"], tables["images"]
    if ok == 0 and len(images) > 0:
        failed = images[images["status"] == "error"]["error"]
        error = ImageError("no image could be analysed: " + "; ".join(failed))
        error.images = images  # type: ignore[attr-defined]
        raise error
    return (metrics, images) if return_images else metrics


_DTYPES = {np.dtype(np.uint8): "uint8", np.dtype(np.uint16): "uint16", np.dtype(np.float32): "float32"}


def analyze_image(
    image: Any,
    *,
    roi: Literal["face", "full"] = "face",
    px_per_mm: Optional[float] = None,
    config: Config = None,
    image_id: str = "image",
    colour: Optional[Literal["srgb", "linear"]] = None,
    jobs: Optional[int] = None,
    return_tables: bool = False,
) -> Union[pd.DataFrame, Dict[str, pd.DataFrame]]:
    """Analyse one image held in memory, through the same path as a decoded file.

    Parameters
    ----------
    image
        A NumPy array (or anything ``numpy.asarray`` takes), upright: H x W x 3 RGB (x 4: alpha
        ignored) or H x W grey. ``uint8``/``uint16`` samples are sRGB-encoded (as in a PNG or
        JPEG); ``float32`` (or ``float64``, converted) samples are linear light in [0, 1] and
        need ``colour="linear"``; NaN pixels are left out of every zone. Any byte order and
        memory layout.
    roi, px_per_mm, config, jobs
        As for :func:`analyze`. The calibration source is then written ``cli``.
    image_id
        The ``image_id`` (and ``path``) of the rows, and the name in error messages.
    colour
        ``"srgb"`` (the default for integer arrays) or ``"linear"`` (required for float arrays).
    return_tables
        Return every table of the image (``metrics``, ``images``, ``lines``, ``scars``,
        ``landmarks``) instead of the metrics alone.

    Returns
    -------
    pandas.DataFrame or dict
        The metrics rows (one per zone), the same numbers as :func:`analyze` on a file with
        these pixels; or every table with ``return_tables``.

    Raises
    ------
    TypeError, ValueError
        An array that is not an image skintex reads, or a ``colour`` that does not fit it.
    ImageError
        The image could not be analysed (e.g. no face found): ``"<image_id>: <reason>"``.
    """
    array = np.asarray(image)
    if array.dtype.kind == "f":
        array = array.astype(np.float32, copy=False)
    array = array.astype(array.dtype.newbyteorder("="), copy=False)
    dtype = _DTYPES.get(array.dtype)
    if dtype is None:
        raise TypeError(
            f"{image_id}: arrays of {array.dtype} are not read: give uint8 or uint16 sRGB, "
            "or float32 linear RGB with colour='linear'"
        )
    is_float = dtype == "float32"
    if colour not in (None, "srgb", "linear"):
        raise ValueError(f"colour must be 'srgb' or 'linear', got {colour!r}")
    if is_float and colour != "linear":
        raise ValueError(
            f"{image_id}: float samples are read as linear light: pass colour='linear' "
            "(for sRGB-encoded values give uint8 or uint16)"
        )
    if not is_float and colour == "linear":
        raise ValueError(
            f"{image_id}: integer samples are read as sRGB: give float32 for linear light"
        )
    if array.ndim == 2:
        channels = 1
    elif array.ndim == 3:
        channels = array.shape[2]
    else:
        raise ValueError(f"{image_id}: expected H x W x 3 or H x W, got shape {array.shape}")
    height, width = array.shape[:2]
    samples = np.ascontiguousarray(array).tobytes()
    config_path, config_text = None, None
    if isinstance(config, Mapping):
        config_text = _native.config_toml(json.dumps(config))
    elif config is not None:
        config_path = os.fspath(config)
    _native.take_messages()
    tables = _frames(
        _native.analyze_pixels(
            samples,
            height,
            width,
            channels,
            dtype,
            image_id,
            roi,
            None if px_per_mm is None else float(px_per_mm),
            config_path,
            config_text,
            None if jobs is None else int(jobs),
        )
    )
    images = tables["images"]
    if (images["status"] == "error").any():
        _native.take_messages()  # the failure, raised below
        raise ImageError(images["error"].iloc[0])
    _warn_messages()
    return tables if return_tables else tables["metrics"]


def read_image(path: PathLike) -> np.ndarray:
    """Read an image file as skintex analyses it: decoded, EXIF orientation applied.

    Returns H x W x 3 ``uint8``/``uint16`` sRGB (alpha dropped), H x W for grey, or H x W x 3
    ``float32`` linear light for a floating-point TIFF (NaN where a sample was not finite; pass
    ``colour="linear"`` to :func:`analyze_image`).

    Raises
    ------
    ImageError
        The file cannot be read or decoded: ``"<path>: <reason>"``.
    """
    samples, height, width, channels, dtype = _native.read_image(os.fspath(path))
    shape = (height, width) if channels == 1 else (height, width, channels)
    return np.frombuffer(samples, dtype=np.dtype(dtype)).reshape(shape).copy()


def study(
    metrics: Union[PathLike, pd.DataFrame],
    manifest: PathLike,
    *,
    out: Optional[PathLike] = None,
    baseline: str = "baseline",
    contrast: Optional[str] = None,
    max_alignment_mm: float = 2.0,
    test: Literal["t", "wilcoxon"] = "t",
) -> Dict[str, pd.DataFrame]:
    """Change from baseline and statistics of a study, as ``skintex study`` computes them.

    Parameters
    ----------
    metrics
        The analysis of the study's photos: its output folder, its ``metrics.csv``, or the
        metrics DataFrame (then without alignment and comparability: the landmarks and the
        capture values are in the folder, so ``comparable`` is empty with the reason).
    manifest
        The study manifest (``path``, ``subject``, ``visit``/``days_from_baseline``, ``side``,
        ``arm``, ...).
    out
        Folder for ``changes.csv``, ``stats.csv``, ``alignment.csv``, ``report.html`` and
        ``study.json``; without it a temporary folder, deleted afterwards.
    baseline, contrast, max_alignment_mm
        As ``--baseline``, ``--contrast`` (``"A-B"`` or ``"none"``) and ``--max-alignment-mm``.
    test
        As ``--test``: the report's primary test, ``"t"`` (paired t, the default) or
        ``"wilcoxon"``; ``stats`` holds both tests either way.

    Returns
    -------
    dict
        ``changes``, ``stats``, ``alignment`` and any other table the study writes (e.g.
        ``repeatability`` when skintex computes it), by name.

    Raises
    ------
    StudyError
        An invalid design (every problem by line and column) or option.
    OutputError
        The outputs could not be written.
    """
    with tempfile.TemporaryDirectory(prefix="skintex-study-") as scratch:
        if isinstance(metrics, pd.DataFrame):
            metrics_path = os.path.join(scratch, "metrics.csv")
            metrics.to_csv(metrics_path, index=False)
        else:
            metrics_path = os.fspath(metrics)
            if os.path.isdir(metrics_path):
                metrics_path = os.path.join(metrics_path, "metrics.csv")
        folder = os.fspath(out) if out is not None else os.path.join(scratch, "out")
        argv = ["skintex", "study", "--quiet", "--metrics", metrics_path]
        argv += ["--manifest", os.fspath(manifest), "--out", folder]
        argv += ["--baseline", baseline, "--max-alignment-mm", repr(float(max_alignment_mm))]
        argv += ["--test", test]
        if contrast is not None:
            argv += ["--contrast", contrast]
        _native.take_messages()
        try:
            return _frames(_native.study(argv))
        finally:
            _warn_messages()


def agree(
    results: PathLike,
    *,
    lines_masks: Optional[PathLike] = None,
    scars: Optional[PathLike] = None,
    rater_b_lines_masks: Optional[PathLike] = None,
    rater_b_scars: Optional[PathLike] = None,
    tolerance_px: float = 2.0,
    match_mm: float = 0.5,
    out: Optional[PathLike] = None,
) -> Dict[str, pd.DataFrame]:
    """skintex scored against expert annotations (and a second expert against the first), as
    ``skintex agree`` computes it.

    Parameters
    ----------
    results
        Output folder of an analysis made with ``save_masks``/``--save-masks``.
    lines_masks, scars
        Rater A's wrinkle masks (``DIR/<image_id>.png``, nonzero = wrinkle; without it the
        analysis manifest's column ``lines_mask``) and scar marks (CSV ``image_id,x_px,y_px``
        with optional ``diameter_mm`` and ``type``).
    rater_b_lines_masks, rater_b_scars
        The same from a second rater: adds skintex against rater B and rater B against rater A.
    tolerance_px, match_mm
        As ``--tolerance-px`` (0 gives the plain Dice) and ``--match-mm``.
    out
        Folder for ``agreement.csv``, ``summary.csv`` and ``agreement.html``; without it a
        temporary folder, deleted afterwards.

    Returns
    -------
    dict
        ``agreement`` (per image x zone x comparison) and ``summary`` (per comparison, zone and
        metric: means with bootstrap intervals, Bland-Altman, ICC(2,1)), by name; empty values
        are NaN, their reasons in ``missing_reasons``.

    Raises
    ------
    UsageError
        No annotation, a bad number, or an input that cannot be read.
    OutputError
        The outputs could not be written.
    """
    with tempfile.TemporaryDirectory(prefix="skintex-agree-") as scratch:
        folder = os.fspath(out) if out is not None else scratch
        argv = ["skintex", "agree", "--results", os.fspath(results), "--out", folder]
        argv += ["--tolerance-px", repr(float(tolerance_px)), "--match-mm", repr(float(match_mm))]
        for flag, value in [
            ("--lines-masks", lines_masks),
            ("--scars", scars),
            ("--rater-b-lines-masks", rater_b_lines_masks),
            ("--rater-b-scars", rater_b_scars),
        ]:
            if value is not None:
                argv += [flag, os.fspath(value)]
        _native.take_messages()
        try:
            return _frames(_native.agree(argv))
        finally:
            _warn_messages()


def phantom(
    *,
    seed: int = 1,
    preset: Literal["realistic", "classic"] = "realistic",
    wrinkles: int = 3,
    icepick: int = 2,
    boxcar: int = 2,
    rolling: int = 1,
    px_per_mm: Optional[float] = None,
    size: Optional[int] = None,
    fov_mm: Optional[float] = None,
    relief_sq: Optional[float] = None,
    stubble: bool = False,
    cross_polarised: bool = False,
    out: Optional[PathLike] = None,
) -> Tuple[np.ndarray, Dict[str, Any]]:
    """Render a synthetic close-up skin photo with known wrinkles, scars and relief, as
    ``skintex phantom`` does (the same seed gives the same image).

    Parameters
    ----------
    seed
        Random seed.
    preset
        ``"realistic"`` draws pores, furrows, hairs, pigment, light, skin tone, blur, noise,
        JPEG and resolution per phantom; ``"classic"`` is the generator of the demo data.
    wrinkles, icepick, boxcar, rolling
        How many wrinkles and scars of each type to place (fewer fit on a small image; the
        truth lists those placed).
    px_per_mm, size, fov_mm, relief_sq
        Resolution (px/mm), image side (px, classic), field of view (mm, realistic) and RMS
        microrelief (mm); defaults as the command's.
    stubble, cross_polarised
        Realistic preset: add stubble; no specular shine.
    out
        Also keep ``phantom-001.png`` and ``phantom-001.json`` in this folder.

    Returns
    -------
    (numpy.ndarray, dict)
        The H x W x 3 ``uint8`` sRGB image and its ground truth (``px_per_mm``, ``wrinkles``,
        ``scars``, ``spots``, ... as in ``phantom-001.json``; lengths in mm, positions in px).
    """
    with tempfile.TemporaryDirectory(prefix="skintex-phantom-") as scratch:
        folder = os.fspath(out) if out is not None else scratch
        argv = ["skintex", "phantom", "--out", folder, "--count", "1", "--seed", str(int(seed))]
        argv += ["--preset", preset, "--wrinkles", str(int(wrinkles))]
        argv += ["--scars", f"icepick={int(icepick)},boxcar={int(boxcar)},rolling={int(rolling)}"]
        for flag, value in [
            ("--px-per-mm", px_per_mm),
            ("--size", size),
            ("--fov-mm", fov_mm),
            ("--relief-sq", relief_sq),
        ]:
            if value is not None:
                argv += [flag, str(value)]
        if stubble:
            argv.append("--stubble")
        if cross_polarised:
            argv.append("--cross-polarised")
        _native.phantom(argv)
        image = read_image(os.path.join(folder, "phantom-001.png"))
        with open(os.path.join(folder, "phantom-001.json"), encoding="utf-8") as file:
            truth = json.load(file)
    return image, truth
