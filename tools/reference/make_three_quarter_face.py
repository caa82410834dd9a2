"""Render a 3/4 view (head turned by a known yaw) of the public-domain astronaut portrait.

No licence-clean photo of a face in a 3/4 view was found in a registry package (scikit-image
0.26.0 ships one portrait, `astronaut.png`, frontal), so one is rendered here from the astronaut
and its MediaPipe face mesh (models/reference/astronaut_landmarks.json: 468 landmarks x, y and
relative depth z, px):

* each landmark is turned about a vertical axis through the head (x = midpoint of the cheek
  edges 234 and 454, z = mean landmark depth + 0.5 x the cheek-to-cheek width, i.e. behind the
  face) by the yaw, and projected orthographically (y unchanged);
* a ring of fixed points around the head (1.7 x the face's half-extent) and the image border
  keep the background still;
* the image is warped piecewise-affinely (scikit-image PiecewiseAffineTransform, Delaunay
  triangles of the output points, bilinear) from the original to the turned landmarks.

It is a 2.5-D re-projection of one frontal photo, not a photograph: the far cheek is compressed
rather than hidden behind the nose, and the ears and hair move only through the interpolation.
Output: tests/fixtures/face/astronaut_yaw{DEG}.png (the 512 x 512 frame cropped to the head)
plus a JSON with the provenance, the yaw and the sha256 of the PNG.

Run from the repo root: python tools/reference/make_three_quarter_face.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from skimage import data, io, transform

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _refcommon import REPO_ROOT, provenance, sha256_file  # noqa: E402

OUT = REPO_ROOT / "tests" / "fixtures" / "face"
# The head crop of the 512 x 512 astronaut written out (x0, y0, side), px.
CROP = (95, 10, 260)


def turned_landmarks(xy: np.ndarray, z: np.ndarray, yaw_deg: float) -> np.ndarray:
    """Landmarks turned about a vertical axis behind the face, orthographic projection."""
    xc = 0.5 * (xy[234, 0] + xy[454, 0])
    width = abs(xy[454, 0] - xy[234, 0])
    zp = z.mean() + 0.5 * width
    t = np.deg2rad(yaw_deg)
    x = xc + (xy[:, 0] - xc) * np.cos(t) + (z - zp) * np.sin(t)
    return np.column_stack([x, xy[:, 1]])


def render(yaw_deg: float) -> tuple[np.ndarray, dict]:
    ref = json.loads((REPO_ROOT / "models/reference/astronaut_landmarks.json").read_text())
    xy = np.asarray(ref["mesh"]["landmarks_px"], dtype=float)
    z = np.asarray(ref["mesh"]["landmarks_z_px"], dtype=float)
    img = data.astronaut()
    h, w = img.shape[:2]
    dst = turned_landmarks(xy, z, yaw_deg)
    centre = xy.mean(axis=0)
    half = 0.5 * (xy.max(axis=0) - xy.min(axis=0))
    ang = np.linspace(0.0, 2.0 * np.pi, 48, endpoint=False)
    ring = centre + 1.7 * np.column_stack([half[0] * np.cos(ang), half[1] * np.sin(ang)])
    edge = np.linspace(0.0, 1.0, 9)
    border = np.concatenate(
        [
            np.column_stack([edge * (w - 1), np.zeros_like(edge)]),
            np.column_stack([edge * (w - 1), np.full_like(edge, h - 1)]),
            np.column_stack([np.zeros_like(edge), edge * (h - 1)]),
            np.column_stack([np.full_like(edge, w - 1), edge * (h - 1)]),
        ]
    )
    fixed = np.concatenate([ring, border])
    src_pts = np.concatenate([xy, fixed])
    dst_pts = np.concatenate([dst, fixed])
    # warp() maps output coordinates to input coordinates.
    tform = transform.PiecewiseAffineTransform.from_estimate(dst_pts, src_pts)
    assert tform, "piecewise affine estimate failed"
    out = transform.warp(img, tform, order=1, mode="edge", preserve_range=True)
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    x0, y0, s = CROP
    meta = {
        "yaw_deg": yaw_deg,
        "crop_x0_y0_side": [x0, y0, s],
        "pivot": "x = midpoint of landmarks 234 and 454; z = mean z + 0.5 x |x454 - x234|",
        "head_is_turned_to": "the image's left (the subject's right) for positive yaw_deg",
    }
    return out[y0 : y0 + s, x0 : x0 + s], meta


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for yaw in (35.0,):
        img, meta = render(yaw)
        png = OUT / f"astronaut_yaw{int(yaw)}.png"
        io.imsave(png, img, check_contrast=False)
        meta["png"] = png.name
        meta["png_sha256"] = sha256_file(png)
        meta["source"] = (
            "skimage.data.astronaut() (scikit-image 0.26.0; NASA, public domain) and "
            "models/reference/astronaut_landmarks.json"
        )
        meta["provenance"] = provenance(__file__, ["numpy", "scipy", "scikit-image", "imageio"])
        (OUT / f"astronaut_yaw{int(yaw)}.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(png, meta["png_sha256"])


if __name__ == "__main__":
    main()
