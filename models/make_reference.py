#!/usr/bin/env python3
"""Reference outputs of the ONNX face pipeline, for the Rust tests.

Run by hand inside the venv made by convert.sh (REFERENCE=1 bash models/convert.sh):

    python models/make_reference.py [--png /tmp/astronaut_landmarks.png]

Writes models/reference/astronaut_landmarks.json. It re-implements, in numpy + OpenCV,
the MediaPipe 0.10.14 CPU graphs FaceDetectionShortRange -> FaceDetectionFrontDetectionToRoi
-> FaceLandmarkCpu (options as decoded in models/mediapipe_graphs.txt) and runs the three
ONNX models with onnxruntime. As a cross-check it also runs mediapipe's own
solutions.face_detection / solutions.face_mesh on the same image and records the
differences.
"""
import argparse
import datetime
import json
import math
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))

# --- FaceDetectionShortRange options (mediapipe_graphs.txt) ---------------------------------
DET_SIZE = 128
ANCHOR_OPTS = dict(num_layers=4, min_scale=0.1484375, max_scale=0.75, input_size_width=128,
                   input_size_height=128, anchor_offset_x=0.5, anchor_offset_y=0.5,
                   strides=[8, 16, 16, 16], aspect_ratios=[1.0], fixed_anchor_size=True,
                   interpolated_scale_aspect_ratio=1.0, reduce_boxes_in_lowest_layer=False)
DECODE_OPTS = dict(num_classes=1, num_boxes=896, num_coords=16, box_coord_offset=0,
                   keypoint_coord_offset=4, num_keypoints=6, num_values_per_keypoint=2,
                   reverse_output_order=True, sigmoid_score=True, score_clipping_thresh=100.0,
                   x_scale=128.0, y_scale=128.0, w_scale=128.0, h_scale=128.0,
                   min_score_thresh=0.5)
NMS_THRESH = 0.3          # IoU, WEIGHTED
ROI_SCALE = 1.5           # FaceDetectionFrontDetectionToRoi: scale 1.5, square_long
MESH_SIZE = 192
IRIS_SIZE = 64
IRIS_ROI_SCALE = 2.3
KEYPOINT_NAMES = ["right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion",
                  "left_ear_tragion"]


def calculate_scale(min_scale, max_scale, idx, n):
    return (min_scale + max_scale) * 0.5 if n == 1 else min_scale + (max_scale - min_scale) * idx / (n - 1.0)


def ssd_anchors(o):
    """mediapipe SsdAnchorsCalculator. Returns (N,4) [x_center, y_center, w, h] normalized."""
    anchors = []
    layer_id = 0
    n = o["num_layers"]
    while layer_id < n:
        heights, widths, ratios, scales = [], [], [], []
        last = layer_id
        while last < n and o["strides"][last] == o["strides"][layer_id]:
            scale = calculate_scale(o["min_scale"], o["max_scale"], last, n)
            if last == 0 and o["reduce_boxes_in_lowest_layer"]:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, scale, scale]
            else:
                for ar in o["aspect_ratios"]:
                    ratios.append(ar)
                    scales.append(scale)
                if o["interpolated_scale_aspect_ratio"] > 0.0:
                    nxt = 1.0 if last == n - 1 else calculate_scale(o["min_scale"], o["max_scale"], last + 1, n)
                    scales.append(math.sqrt(scale * nxt))
                    ratios.append(o["interpolated_scale_aspect_ratio"])
            last += 1
        for r, s in zip(ratios, scales):
            heights.append(s / math.sqrt(r))
            widths.append(s * math.sqrt(r))
        stride = o["strides"][layer_id]
        fh = int(math.ceil(o["input_size_height"] / stride))
        fw = int(math.ceil(o["input_size_width"] / stride))
        for y in range(fh):
            for x in range(fw):
                for a in range(len(heights)):
                    xc = (x + o["anchor_offset_x"]) / fw
                    yc = (y + o["anchor_offset_y"]) / fh
                    if o["fixed_anchor_size"]:
                        anchors.append([xc, yc, 1.0, 1.0])
                    else:
                        anchors.append([xc, yc, widths[a], heights[a]])
        layer_id = last
    return np.array(anchors, dtype=np.float64)


def warp_rotated_rect(img, cx, cy, w, h, rotation, out_w, out_h, border):
    """mediapipe ImageToTensorCalculator, OpenCV converter: boxPoints of the rotated rect ->
    getPerspectiveTransform to the output corners -> warpPerspective(INTER_LINEAR) on the
    uint8 image (so the warped values are rounded to uint8 before range conversion)."""
    src = cv2.boxPoints(((cx, cy), (w, h), rotation * 180.0 / math.pi)).astype(np.float32)
    dst = np.array([[0, out_h], [0, 0], [out_w, 0], [out_w, out_h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (out_w, out_h), flags=cv2.INTER_LINEAR,
                              borderMode=border, borderValue=(0, 0, 0))
    return out, m, src


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def decode_detections(reg, cls, anchors, o):
    reg = reg.reshape(o["num_boxes"], o["num_coords"]).astype(np.float64)
    raw = cls.reshape(o["num_boxes"]).astype(np.float64)
    scores = sigmoid(np.clip(raw, -o["score_clipping_thresh"], o["score_clipping_thresh"]))
    dets = []
    for i in range(o["num_boxes"]):
        if scores[i] < o["min_score_thresh"]:
            continue
        ax, ay, aw, ah = anchors[i]
        r = reg[i]
        b = o["box_coord_offset"]
        if o["reverse_output_order"]:
            xc, yc, w, h = r[b], r[b + 1], r[b + 2], r[b + 3]
        else:
            yc, xc, h, w = r[b], r[b + 1], r[b + 2], r[b + 3]
        xc = xc / o["x_scale"] * aw + ax
        yc = yc / o["y_scale"] * ah + ay
        h = h / o["h_scale"] * ah
        w = w / o["w_scale"] * aw
        kps = []
        for k in range(o["num_keypoints"]):
            off = b + o["keypoint_coord_offset"] + k * o["num_values_per_keypoint"]
            kx, ky = (r[off], r[off + 1]) if o["reverse_output_order"] else (r[off + 1], r[off])
            kps.append([kx / o["x_scale"] * aw + ax, ky / o["y_scale"] * ah + ay])
        dets.append(dict(anchor=i, score=float(scores[i]), logit=float(raw[i]),
                         box=[xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2],  # xmin,ymin,xmax,ymax
                         keypoints=kps))
    return dets


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def weighted_nms(dets, thresh):
    """mediapipe NonMaxSuppressionCalculator, algorithm WEIGHTED, overlap IOU."""
    remained = sorted(dets, key=lambda d: -d["score"])
    out = []
    while remained:
        top = remained[0]
        cands, rest = [], []
        for d in remained:
            (cands if iou(top["box"], d["box"]) > thresh else rest).append(d)
        total = sum(d["score"] for d in cands)
        box = [sum(d["box"][j] * d["score"] for d in cands) / total for j in range(4)]
        kps = [[sum(d["keypoints"][k][j] * d["score"] for d in cands) / total for j in range(2)]
               for k in range(len(top["keypoints"]))]
        out.append(dict(score=top["score"], logit=top["logit"], anchor=top["anchor"], box=box,
                        keypoints=kps, merged_anchors=[d["anchor"] for d in cands]))
        remained = rest
    return out


def normalize_radians(a):
    return a - 2 * math.pi * math.floor((a - (-math.pi)) / (2 * math.pi))


def rect_from_points(p0, p1, box, img_w, img_h, scale):
    """DetectionsToRectsCalculator (rotation from keypoint 0 -> 1, target angle 0) followed by
    RectTransformationCalculator(scale_x = scale_y = scale, square_long). box is the
    normalized [xmin,ymin,xmax,ymax]; result is normalized (x_center, y_center, w, h, rot)."""
    xc = (box[0] + box[2]) / 2
    yc = (box[1] + box[3]) / 2
    w = box[2] - box[0]
    h = box[3] - box[1]
    x0, y0 = p0[0] * img_w, p0[1] * img_h
    x1, y1 = p1[0] * img_w, p1[1] * img_h
    rot = normalize_radians(0.0 - math.atan2(-(y1 - y0), x1 - x0))
    long_side = max(w * img_w, h * img_h)
    w = long_side / img_w * scale
    h = long_side / img_h * scale
    return dict(x_center=xc, y_center=yc, width=w, height=h, rotation=rot)


def project(points, rect):
    """LandmarkProjectionCalculator: points normalized to the crop -> normalized image."""
    c, s = math.cos(rect["rotation"]), math.sin(rect["rotation"])
    out = []
    for x, y, z in points:
        x, y = x - 0.5, y - 0.5
        nx = (c * x - s * y) * rect["width"] + rect["x_center"]
        ny = (s * x + c * y) * rect["height"] + rect["y_center"]
        out.append([nx, ny, z * rect["width"]])
    return out


def fixed_input(shape):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    return (((i * 7919) % 255) / 255.0).astype(np.float32).reshape(shape)


def r6(x):
    return float("%.6g" % x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--png", default="/tmp/astronaut_landmarks.png")
    ap.add_argument("--out", default=os.path.join(HERE, "reference", "astronaut_landmarks.json"))
    args = ap.parse_args()

    import skimage
    from skimage import data
    img = np.ascontiguousarray(data.astronaut())  # (512, 512, 3) uint8 RGB
    H, W = img.shape[:2]
    sess = {n: ort.InferenceSession(os.path.join(HERE, f), providers=["CPUExecutionProvider"])
            for n, f in [("detector", "face_detection_short_range.onnx"),
                         ("mesh", "face_landmark.onnx"), ("iris", "iris_landmark.onnx")]}

    # ---- detector: whole image, keep_aspect_ratio (letterbox, BORDER_ZERO), [-1, 1] --------
    side = float(max(W, H))
    det_roi = dict(x_center=W / 2.0, y_center=H / 2.0, width=side, height=side, rotation=0.0)
    det_img, det_m, _ = warp_rotated_rect(img, det_roi["x_center"], det_roi["y_center"], side, side,
                                          0.0, DET_SIZE, DET_SIZE, cv2.BORDER_CONSTANT)
    det_in = (det_img.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0))[None]
    reg, cls = sess["detector"].run(None, {"input": det_in})
    anchors = ssd_anchors(ANCHOR_OPTS)
    assert anchors.shape == (896, 4)
    raw_dets = decode_detections(reg, cls, anchors, DECODE_OPTS)
    dets = weighted_nms(raw_dets, NMS_THRESH)
    if not dets:
        raise SystemExit("no face detected")
    det = dets[0]  # num_faces = 1 (ClipDetectionVectorSize keeps the best)

    # DetectionProjectionCalculator: tensor-normalized -> image-normalized (undo letterbox)
    def t2img(u, v):
        return ((det_roi["x_center"] + (u - 0.5) * side) / W,
                (det_roi["y_center"] + (v - 0.5) * side) / H)
    bx0, by0 = t2img(det["box"][0], det["box"][1])
    bx1, by1 = t2img(det["box"][2], det["box"][3])
    box_n = [bx0, by0, bx1, by1]
    kps_n = [t2img(*k) for k in det["keypoints"]]

    # ---- ROI for the mesh ----------------------------------------------------------------
    roi = rect_from_points(kps_n[0], kps_n[1], box_n, W, H, ROI_SCALE)
    roi_px = dict(x_center=roi["x_center"] * W, y_center=roi["y_center"] * H,
                  width=roi["width"] * W, height=roi["height"] * H, rotation=roi["rotation"])
    mesh_img, mesh_m, mesh_corners = warp_rotated_rect(
        img, roi_px["x_center"], roi_px["y_center"], roi_px["width"], roi_px["height"],
        roi_px["rotation"], MESH_SIZE, MESH_SIZE, cv2.BORDER_REPLICATE)
    mesh_in = (mesh_img.astype(np.float32) * np.float32(1.0 / 255.0))[None]
    lm_raw, flag = sess["mesh"].run(None, {"input_1": mesh_in})
    lm_raw = lm_raw.reshape(468, 3).astype(np.float64)
    presence = float(sigmoid(flag.reshape(())))
    lm_n = project((lm_raw / MESH_SIZE).tolist(), roi)
    lm_px = [[x * W, y * H, z * W] for x, y, z in lm_n]

    # ---- iris (IrisLandmarkLeftAndRight; crop from mesh landmarks 33/133 and 362/263) -----
    iris_out = {}
    for side_name, (a, b), flip in [("left_eye_mediapipe_naming", (33, 133), False),
                                    ("right_eye_mediapipe_naming", (362, 263), True)]:
        pa, pb = lm_n[a], lm_n[b]
        ebox = [min(pa[0], pb[0]), min(pa[1], pb[1]), max(pa[0], pb[0]), max(pa[1], pb[1])]
        eroi = rect_from_points(pa, pb, ebox, W, H, IRIS_ROI_SCALE)
        eimg, _, _ = warp_rotated_rect(img, eroi["x_center"] * W, eroi["y_center"] * H,
                                       eroi["width"] * W, eroi["height"] * H, eroi["rotation"],
                                       IRIS_SIZE, IRIS_SIZE, cv2.BORDER_REPLICATE)
        if flip:
            eimg = eimg[:, ::-1]
        ein = (np.ascontiguousarray(eimg).astype(np.float32) / np.float32(255.0))[None]
        contour, iris = sess["iris"].run(None, {"input_1": ein})
        contour = contour.reshape(71, 3).astype(np.float64)
        iris = iris.reshape(5, 3).astype(np.float64)

        def to_img(p):
            p = p.copy()
            if flip:
                p[:, 0] = IRIS_SIZE - p[:, 0]
            return [[x * W, y * H, z * W] for x, y, z in project((p / IRIS_SIZE).tolist(), eroi)]
        iris_out[side_name] = dict(
            boundary_landmarks=[a, b], flipped_horizontally=flip,
            roi_px=dict(x_center=r6(eroi["x_center"] * W), y_center=r6(eroi["y_center"] * H),
                        width=r6(eroi["width"] * W), height=r6(eroi["height"] * H),
                        rotation_rad=r6(eroi["rotation"])),
            iris_px=[[r6(v) for v in p[:2]] for p in to_img(iris)],
            eye_contour_px=[[r6(v) for v in p[:2]] for p in to_img(contour)])

    # ---- fixed deterministic inputs ------------------------------------------------------
    fixed = {}
    for n, s in sess.items():
        inp = s.get_inputs()[0]
        x = fixed_input(inp.shape)
        outs = s.run(None, {inp.name: x})
        fixed[n] = (x, {o.name: v for o, v in zip(s.get_outputs(), outs)})

    # ---- cross-check against mediapipe's own graphs --------------------------------------
    xcheck = {}
    try:
        import mediapipe as mp
        with mp.solutions.face_detection.FaceDetection(model_selection=0,
                                                       min_detection_confidence=0.5) as fd:
            r = fd.process(img)
        d = r.detections[0]
        bb = d.location_data.relative_bounding_box
        mp_box = [bb.xmin * W, bb.ymin * H, (bb.xmin + bb.width) * W, (bb.ymin + bb.height) * H]
        mp_kps = [[k.x * W, k.y * H] for k in d.location_data.relative_keypoints]
        ours_box = [box_n[0] * W, box_n[1] * H, box_n[2] * W, box_n[3] * H]
        xcheck["face_detection_score"] = r6(d.score[0])
        xcheck["face_detection_box_max_abs_diff_px"] = r6(max(abs(a - b) for a, b in zip(mp_box, ours_box)))
        xcheck["face_detection_keypoints_max_abs_diff_px"] = r6(max(
            abs(a - b) for p, q in zip(mp_kps, kps_n) for a, b in zip(p, (q[0] * W, q[1] * H))))
        with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                             refine_landmarks=False,
                                             min_detection_confidence=0.5) as fm:
            r = fm.process(img)
        mp_lm = np.array([[p.x * W, p.y * H] for p in r.multi_face_landmarks[0].landmark])
        diff = np.abs(mp_lm - np.array(lm_px)[:, :2])
        xcheck["face_mesh_landmarks_max_abs_diff_px"] = r6(diff.max())
        xcheck["face_mesh_landmarks_mean_abs_diff_px"] = r6(diff.mean())
        xcheck["note"] = ("mediapipe %s solutions.face_detection(model_selection=0) and "
                          "solutions.face_mesh(static_image_mode=True, refine_landmarks=False) "
                          "on the same RGB image, TFLite + XNNPACK, vs this script (ONNX)."
                          % mp.__version__)
    except Exception as e:  # pragma: no cover
        xcheck["error"] = repr(e)

    import onnx
    import onnxruntime
    versions = dict(python=sys.version.split()[0], onnxruntime=onnxruntime.__version__,
                    onnx=onnx.__version__, numpy=np.__version__, opencv=cv2.__version__,
                    scikit_image=skimage.__version__)
    try:
        import mediapipe as mp
        versions["mediapipe"] = mp.__version__
    except Exception:
        pass

    doc = {
        "description": ("Reference outputs of the skintex face pipeline (MediaPipe 0.10.14 models "
                        "converted to ONNX, run with onnxruntime) on skimage.data.astronaut(). "
                        "Coordinates are image pixels, x right, y down, origin at the top-left "
                        "corner of the top-left pixel (continuous coords; pixel centres at +0.5)."),
        "generated_by": "models/make_reference.py",
        "date": datetime.date.today().isoformat(),
        "versions": versions,
        "image": dict(source="skimage.data.astronaut()", width=W, height=H, channels="RGB",
                      dtype="uint8", sha256_of_pixels=__import__("hashlib").sha256(img.tobytes()).hexdigest()),
        "detector": {
            "input": dict(size=[DET_SIZE, DET_SIZE], range=[-1.0, 1.0],
                          formula="v = u8 * (2/255) - 1",
                          roi_px=dict(x_center=det_roi["x_center"], y_center=det_roi["y_center"],
                                      width=side, height=side, rotation_rad=0.0),
                          letterbox="keep_aspect_ratio; roi padded to square around the image centre; "
                                    "outside pixels = 0 (BORDER_ZERO) -> -1.0",
                          sampling="cv2.warpPerspective INTER_LINEAR on uint8 (see README)",
                          perspective_matrix=[[r6(v) for v in row] for row in det_m.tolist()],
                          tensor_mean=r6(float(det_in.mean()))),
            "anchor_options": ANCHOR_OPTS, "decode_options": DECODE_OPTS,
            "nms": dict(algorithm="WEIGHTED", overlap="IOU", min_suppression_threshold=NMS_THRESH),
            "num_candidates_above_threshold": len(raw_dets),
            "num_detections_after_nms": len(dets),
            "score": r6(det["score"]), "score_logit": r6(det["logit"]),
            "best_anchor_index": det["anchor"], "merged_anchor_indices": det["merged_anchors"],
            "box_px": dict(xmin=r6(box_n[0] * W), ymin=r6(box_n[1] * H), xmax=r6(box_n[2] * W),
                           ymax=r6(box_n[3] * H)),
            "keypoint_names": KEYPOINT_NAMES,
            "keypoints_px": [[r6(x * W), r6(y * H)] for x, y in kps_n],
        },
        "mesh_crop": {
            "method": ("FaceDetectionFrontDetectionToRoi: rect = detection box; rotation = "
                       "normalize(0 - atan2(-(kp1.y-kp0.y), kp1.x-kp0.x)) with keypoints in pixels; "
                       "square_long (side = max(w,h) in px); scale 1.5; then ImageToTensor "
                       "192x192 [0,1] BORDER_REPLICATE, no aspect padding"),
            "x_center_px": r6(roi_px["x_center"]), "y_center_px": r6(roi_px["y_center"]),
            "width_px": r6(roi_px["width"]), "height_px": r6(roi_px["height"]),
            "rotation_rad": r6(roi_px["rotation"]),
            "rotation_deg": r6(math.degrees(roi_px["rotation"])),
            "corners_px_bl_tl_tr_br": [[r6(v) for v in p] for p in mesh_corners.tolist()],
            "perspective_matrix_image_to_crop": [[r6(v) for v in row] for row in mesh_m.tolist()],
            "input_tensor_mean": r6(float(mesh_in.mean())),
        },
        "mesh": {
            "face_presence_logit": r6(float(flag.reshape(()))),
            "face_presence_score": r6(presence),
            "landmarks_px": [[r6(x), r6(y)] for x, y, _ in lm_px],
            "landmarks_z_px": [r6(z) for _, _, z in lm_px],
            "z_note": "z = raw_z / 192 * roi width (normalized) * image width; relative depth, "
                      "same scale as x, smaller = closer to camera",
        },
        "iris": {
            "note": ("Eye crops from mesh landmarks (33,133) and (362,263), IrisLandmarkLandmarksToRoi "
                     "(rotation from the 2 corners, square_long, scale 2.3). The crop here is a single "
                     "warpPerspective straight to 64x64 (MediaPipe crops then resizes, so values may "
                     "differ slightly); the (362,263) eye is flipped horizontally before the model "
                     "and x is un-flipped (x = 64 - x) after it, as in IrisLandmarkCpu."),
            **iris_out,
        },
        "fixed_input": {
            "formula": "x[i] = ((i * 7919) mod 255) / 255 for flat row-major NHWC index i "
                       "(same formula, values in [0,1], for all three models)",
            "detector": dict(input_first_6=[r6(v) for v in fixed["detector"][0].reshape(-1)[:6]],
                             regressors_first_30=[r6(v) for v in fixed["detector"][1]["regressors"].reshape(-1)[:30]],
                             classificators_first_10=[r6(v) for v in fixed["detector"][1]["classificators"].reshape(-1)[:10]],
                             regressors_sum=r6(float(fixed["detector"][1]["regressors"].astype(np.float64).sum())),
                             classificators_sum=r6(float(fixed["detector"][1]["classificators"].astype(np.float64).sum()))),
            "mesh": dict(conv2d_21_first_30=[r6(v) for v in fixed["mesh"][1]["conv2d_21"].reshape(-1)[:30]],
                         conv2d_31=r6(float(fixed["mesh"][1]["conv2d_31"].reshape(()))),
                         conv2d_21_sum=r6(float(fixed["mesh"][1]["conv2d_21"].astype(np.float64).sum()))),
            "iris": dict(output_eyes_contours_and_brows_first_30=[r6(v) for v in fixed["iris"][1]["output_eyes_contours_and_brows"].reshape(-1)[:30]],
                         output_iris=[r6(v) for v in fixed["iris"][1]["output_iris"].reshape(-1)],
                         output_eyes_contours_and_brows_sum=r6(float(fixed["iris"][1]["output_eyes_contours_and_brows"].astype(np.float64).sum()))),
        },
        "mesh_raw_fixed_input": [r6(v) for v in fixed["mesh"][1]["conv2d_21"].reshape(-1)[:30]],
        "detector_raw_fixed_input": dict(
            regressors_first_30=[r6(v) for v in fixed["detector"][1]["regressors"].reshape(-1)[:30]],
            scores_first_10=[r6(v) for v in fixed["detector"][1]["classificators"].reshape(-1)[:10]]),
        "iris_raw_fixed_input": dict(
            contours_first_30=[r6(v) for v in fixed["iris"][1]["output_eyes_contours_and_brows"].reshape(-1)[:30]],
            iris=[r6(v) for v in fixed["iris"][1]["output_iris"].reshape(-1)]),
        "cross_check_vs_mediapipe": xcheck,
        "tolerance_hint": ("ONNX vs TFLite differ by < 2e-4 on raw outputs; landmarks depend on the "
                           "resampling, so compare image-space landmarks with a tolerance of a few px "
                           "unless the Rust crop reproduces warpPerspective exactly."),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", args.out)
    print("detector score", det["score"], "box px", [v * s for v, s in zip(box_n, [W, H, W, H])])
    print("roi px", roi_px, "presence", presence)
    print("cross-check", xcheck)

    # ---- visualization -------------------------------------------------------------------
    if args.png:
        up = 2
        vis = cv2.resize(img, (W * up, H * up), interpolation=cv2.INTER_NEAREST)
        vis = cv2.cvtColor(vis, cv2.COLOR_RGB2BGR)
        x0, y0, x1, y1 = [v * s * up for v, s in zip(box_n, [W, H, W, H])]
        cv2.rectangle(vis, (int(x0), int(y0)), (int(x1), int(y1)), (255, 0, 0), 2)
        cv2.polylines(vis, [np.int32(mesh_corners * up)], True, (0, 255, 255), 2)
        for x, y, _ in lm_px:
            cv2.circle(vis, (int(round(x * up)), int(round(y * up))), 2, (0, 255, 0), -1)
        for x, y in kps_n:
            cv2.circle(vis, (int(x * W * up), int(y * H * up)), 5, (0, 0, 255), -1)
        for e in iris_out.values():
            for x, y in e["iris_px"]:
                cv2.circle(vis, (int(x * up), int(y * up)), 2, (255, 0, 255), -1)
        cv2.imwrite(args.png, vis)
        print("wrote", args.png)


if __name__ == "__main__":
    main()
