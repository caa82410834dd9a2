#!/usr/bin/env python3
"""Convert the MediaPipe face models (TFLite, from the mediapipe PyPI wheel) to ONNX.

Run by hand, inside the pinned venv that convert.sh creates (never in CI):

    python models/convert.py --wheel /path/to/mediapipe-0.10.14-cp311-...whl

What it does, in order:
  1. extracts the three .tflite files, the licence and face_mesh_connections.py from the wheel;
  2. converts each model with `python -m tf2onnx.convert --tflite X --output Y --opset 13`;
  3. canonicalises the ONNX files (see canonicalize(): tf2onnx output varies from run
     to run in names and node order only; nodes/tensors are renamed and re-sorted
     deterministically so that the bytes, and so the sha256, are reproducible. Ops,
     attributes, weights and the graph input/output names are untouched);
  4. checks ONNX Runtime against tf.lite.Interpreter on random inputs;
  5. decodes the MediaPipe graph configs that are compiled into the wheel's
     _framework_bindings .so (anchors, thresholds, crop scales) into mediapipe_graphs.txt;
  6. writes face_mesh_topology.json, LICENSE-mediapipe, manifest.toml and prints sha256s.
"""
import argparse
import ast
import hashlib
import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

SOURCE_PACKAGE = "mediapipe"
SOURCE_VERSION = "0.10.14"
OPSET = 13

MODELS = [
    # name, wheel path, onnx file, input range
    ("detector", "mediapipe/modules/face_detection/face_detection_short_range.tflite",
     "face_detection_short_range.onnx", (-1.0, 1.0)),
    ("mesh", "mediapipe/modules/face_landmark/face_landmark.tflite",
     "face_landmark.onnx", (0.0, 1.0)),
    ("iris", "mediapipe/modules/iris_landmark/iris_landmark.tflite",
     "iris_landmark.onnx", (0.0, 1.0)),
]

CONNECTION_SETS = [
    "FACEMESH_LIPS", "FACEMESH_LEFT_EYE", "FACEMESH_LEFT_EYEBROW", "FACEMESH_LEFT_IRIS",
    "FACEMESH_RIGHT_EYE", "FACEMESH_RIGHT_EYEBROW", "FACEMESH_RIGHT_IRIS",
    "FACEMESH_FACE_OVAL", "FACEMESH_NOSE",
]

GRAPH_TYPES = [
    "FaceDetectionShortRange", "FaceDetection", "FaceDetectionFrontDetectionToRoi",
    "FaceLandmarkCpu", "TensorsToFaceLandmarks", "FaceLandmarkLandmarksToRoi",
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonicalize(path):
    """Rewrite the tf2onnx output into a canonical, byte-reproducible form.

    tf2onnx 1.17 is not deterministic: the numbers in the names it generates
    ("<base>__<N>"), the topological order of the nodes, the names kept for deduplicated
    constants and for merged identical nodes all vary from run to run. The computation
    itself (ops, attributes, weights) does not. So: nodes are re-sorted with Kahn's
    algorithm, ties broken by a purely structural key (op type, attributes, canonical
    names of the inputs, content hash of constant inputs); node i is renamed
    "n<i>_<OpType>", its outputs "t<i>" (or "t<i>_<j>"), graph inputs/outputs keep their
    names, each initializer is renamed "<first consumer>/input<j>" and the initializer
    list is sorted; doc_strings (which hold the temp path) are cleared.
    """
    import onnx
    import onnx.numpy_helper
    m = onnx.load(path)
    g = m.graph
    graph_in = {i.name for i in g.input}
    graph_out = {o.name for o in g.output}
    inits = {t.name: t for t in g.initializer}
    digest = {n: "const:" + hashlib.sha256(
        onnx.numpy_helper.to_array(t).tobytes() + str((t.data_type, list(t.dims))).encode()
    ).hexdigest() for n, t in inits.items()}

    producers = {}
    for idx, node in enumerate(g.node):
        for o in node.output:
            producers[o] = idx
    deps = [set(producers[i] for i in node.input if i in producers) for node in g.node]
    users = [[] for _ in g.node]
    for idx, d in enumerate(deps):
        for p in d:
            users[p].append(idx)

    canon = {n: n for n in graph_in}

    def key(idx):
        n = g.node[idx]
        return (n.op_type, tuple(a.SerializeToString() for a in n.attribute),
                tuple(digest.get(i) or canon.get(i, "") for i in n.input))

    pending = [len(d) for d in deps]
    ready = [i for i, c in enumerate(pending) if c == 0]
    order = []
    while ready:
        ready.sort(key=key)
        idx = ready.pop(0)
        k = len(order)
        order.append(idx)
        outs = g.node[idx].output
        for j, o in enumerate(outs):
            if o in graph_out:
                canon[o] = o
            else:
                canon[o] = "t%d" % k if len(outs) == 1 else "t%d_%d" % (k, j)
        for u in users[idx]:
            pending[u] -= 1
            if pending[u] == 0:
                ready.append(u)
    assert len(order) == len(g.node)

    new_nodes = []
    init_map = {}
    for k, idx in enumerate(order):
        n = onnx.NodeProto()
        n.CopyFrom(g.node[idx])
        n.name = "n%d_%s" % (k, n.op_type)
        n.doc_string = ""
        for j, name in enumerate(n.input):
            if name in inits:
                if name not in init_map:
                    init_map[name] = "%s/input%d" % (n.name, j)
                n.input[j] = init_map[name]
            elif name:
                n.input[j] = canon[name]
        for j, name in enumerate(n.output):
            n.output[j] = canon[name]
        new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    new_inits = []
    for old, t in inits.items():
        if old in init_map:
            t.name = init_map[old]
            new_inits.append(t)
    new_inits.sort(key=lambda t: t.name)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    vis = []
    for vi in g.value_info:
        if vi.name in canon:
            vi.name = canon[vi.name]
            vis.append(vi)
    vis.sort(key=lambda t: t.name)
    del g.value_info[:]
    g.value_info.extend(vis)
    g.doc_string = ""
    m.doc_string = ""
    onnx.checker.check_model(m)
    onnx.save(m, path)


def verify(tflite_path, onnx_path, in_range, trials=20, seed=0):
    import onnxruntime as ort
    import tensorflow as tf
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    it = tf.lite.Interpreter(model_path=tflite_path)
    it.allocate_tensors()
    ind = it.get_input_details()
    outd = it.get_output_details()
    rng = np.random.default_rng(seed)
    maxd = {o.name: 0.0 for o in sess.get_outputs()}
    for _ in range(trials):
        x = rng.uniform(in_range[0], in_range[1], size=ind[0]["shape"]).astype(np.float32)
        it.set_tensor(ind[0]["index"], x)
        it.invoke()
        ref = {d["name"]: it.get_tensor(d["index"]) for d in outd}
        got = sess.run(None, {sess.get_inputs()[0].name: x})
        for o, v in zip(sess.get_outputs(), got):
            assert ref[o.name].shape == v.shape, (o.name, ref[o.name].shape, v.shape)
            maxd[o.name] = max(maxd[o.name], float(np.abs(ref[o.name] - v).max()))
    return maxd


def io_contract(onnx_path):
    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    return (inp.name, list(inp.shape),
            [(o.name, list(o.shape)) for o in sess.get_outputs()])


def dump_graphs(so_bytes, out_path):
    """Find serialized CalculatorGraphConfig protos (registered subgraphs) in the .so.

    Each embedded config ends with its `type` field (tag 0xA2 0x01, field 20). We take the
    longest byte range ending there that parses and re-serialises to exactly the same bytes.
    """
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    import mediapipe.calculators
    import mediapipe.modules.face_detection.face_detection_pb2  # noqa: F401 (registers options)
    for mod in pkgutil.walk_packages(mediapipe.calculators.__path__, "mediapipe.calculators."):
        if mod.name.endswith("_pb2"):
            try:
                importlib.import_module(mod.name)
            except Exception:
                pass
    texts = []
    parsed = {}
    for name in GRAPH_TYPES:
        nb = name.encode()
        needle = b"\xa2\x01" + bytes([len(nb)]) + nb
        for m in re.finditer(re.escape(needle), so_bytes):
            end = m.end()
            best = None
            for start in range(m.start() - 1, max(0, m.start() - 20000), -1):
                chunk = so_bytes[start:end]
                g = calculator_pb2.CalculatorGraphConfig()
                try:
                    g.ParseFromString(chunk)
                except Exception:
                    continue
                if g.type == name and len(g.node) > 0 and g.SerializeToString() == chunk:
                    best = g
            if best is not None:
                parsed[name] = best
                texts.append("# ===== %s (decoded from the wheel's _framework_bindings .so)\n%s"
                             % (name, text_format.MessageToString(best)))
                break
    missing = [n for n in GRAPH_TYPES if n not in parsed]
    if missing:
        raise SystemExit("graph configs not found in .so: %s" % missing)
    with open(out_path, "w") as f:
        f.write("# MediaPipe %s subgraph configs, decoded from the binary protos compiled into\n"
                "# mediapipe/python/_framework_bindings.cpython-311-x86_64-linux-gnu.so.\n"
                "# Generated by models/convert.py. Apache-2.0 (c) The MediaPipe Authors.\n\n"
                % SOURCE_VERSION)
        f.write("\n".join(texts))
    return parsed


def topology(src_text, out_path):
    tree = ast.parse(src_text)
    literals = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = node.targets[0].id
            v = node.value
            # frozenset([ (a,b), ... ]) : keep the source order of the literal list
            if (isinstance(v, ast.Call) and getattr(v.func, "id", None) == "frozenset"
                    and v.args and isinstance(v.args[0], ast.List)):
                literals[name] = [list(ast.literal_eval(e)) for e in v.args[0].elts]
    out = {
        "source": {
            "package": SOURCE_PACKAGE,
            "version": SOURCE_VERSION,
            "file": "mediapipe/python/solutions/face_mesh_connections.py",
            "license": "Apache-2.0",
            "copyright": "Copyright 2021 The MediaPipe Authors.",
            "note": ("Edges are [a, b] landmark indices in the order they appear in the source "
                     "literal; duplicates removed (first occurrence kept). Indices 468..477 "
                     "(the *_IRIS sets) exist only in the 478-point refined mesh "
                     "(face_landmark_with_attention / iris model), not in the 468-point "
                     "face_landmark.onnx output."),
        },
        "num_landmarks": 468,
        "sets": {},
    }
    for name in CONNECTION_SETS:
        if name not in literals:
            continue
        seen, edges = set(), []
        for a, b in literals[name]:
            if (a, b) not in seen:
                seen.add((a, b))
                edges.append([a, b])
        out["sets"][name] = edges
    tes = literals["FACEMESH_TESSELATION"]
    assert len(tes) % 3 == 0
    tris = []
    for i in range(0, len(tes), 3):
        (a, b), (b2, c), (c2, a2) = tes[i], tes[i + 1], tes[i + 2]
        assert b == b2 and c == c2 and a == a2, ("tessellation not in triangle triples", i)
        tris.append([a, b, c])
    seen, edges = set(), []
    for a, b in tes:
        if (a, b) not in seen:
            seen.add((a, b))
            edges.append([a, b])
    out["tessellation_triangles"] = tris
    out["sets"]["FACEMESH_TESSELATION"] = edges
    out["source"]["tessellation_note"] = (
        "FACEMESH_TESSELATION in the source is written as consecutive triples of edges "
        "(a,b),(b,c),(c,a); tessellation_triangles lists those %d triangles [a,b,c] in source "
        "order (winding as written); sets.FACEMESH_TESSELATION holds the %d unique directed "
        "edges." % (len(tris), len(edges)))
    with open(out_path, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    return {k: len(v) for k, v in out["sets"].items()}, len(tris)


def toml_str(s):
    return json.dumps(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True, help="mediapipe-0.10.14 wheel file")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    work = tempfile.mkdtemp(prefix="skintex-models-")

    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx
    versions = {
        "python": sys.version.split()[0], "mediapipe": SOURCE_VERSION,
        "tf2onnx": tf2onnx.__version__, "tensorflow": tf.__version__,
        "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
    }
    print("versions:", versions)

    with zipfile.ZipFile(args.wheel) as z:
        for _, member, _, _ in MODELS:
            with open(os.path.join(work, os.path.basename(member)), "wb") as f:
                f.write(z.read(member))
        lic = z.read("mediapipe-%s.dist-info/LICENSE" % SOURCE_VERSION)
        conn = z.read("mediapipe/python/solutions/face_mesh_connections.py").decode()
        so_name = [n for n in z.namelist()
                   if re.match(r"mediapipe/python/_framework_bindings.*\.so$", n)][0]
        so_bytes = z.read(so_name)
        notices = [n for n in z.namelist() if re.search(r"(^|/)NOTICE[^/]*$", n)]
    print("NOTICE files in wheel:", notices or "none")
    with open(os.path.join(out, "LICENSE-mediapipe"), "wb") as f:
        f.write(lic)

    results = []
    for name, member, onnx_file, in_range in MODELS:
        tfl = os.path.join(work, os.path.basename(member))
        dst = os.path.join(out, onnx_file)
        cmd = [sys.executable, "-m", "tf2onnx.convert", "--tflite", tfl,
               "--output", dst, "--opset", str(OPSET)]
        print("+", " ".join(cmd))
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        canonicalize(dst)
        diffs = verify(tfl, dst, in_range)
        in_name, in_shape, outs = io_contract(dst)
        results.append(dict(name=name, member=member, file=onnx_file, range=in_range,
                            tflite_sha256=sha256(tfl), sha256=sha256(dst), diffs=diffs,
                            input_name=in_name, input_shape=in_shape, outputs=outs))
        print("%-8s %s sha256=%s max|onnx-tflite|=%s" % (name, onnx_file, sha256(dst), diffs))

    dump_graphs(so_bytes, os.path.join(out, "mediapipe_graphs.txt"))
    counts, ntri = topology(conn, os.path.join(out, "face_mesh_topology.json"))
    print("topology:", counts, "triangles:", ntri)

    lines = [
        "# Generated by models/convert.py -- do not edit by hand.",
        "# ONNX conversions of MediaPipe face models; see models/README.md.",
        "",
        "[conversion]",
        "tool = %s" % toml_str("tf2onnx %s (python -m tf2onnx.convert --tflite X --output Y "
                                "--opset %d) + canonical node order and names (convert.py canonicalize)"
                                % (versions["tf2onnx"], OPSET)),
        "opset = %d" % OPSET,
    ] + ["%s = %s" % (k, toml_str(v)) for k, v in versions.items()] + [""]
    for r in results:
        lines += [
            "[[model]]",
            "name = %s" % toml_str(r["name"]),
            "file = %s" % toml_str(r["file"]),
            "sha256 = %s" % toml_str(r["sha256"]),
            "input_name = %s" % toml_str(r["input_name"]),
            "input_shape = [%s]" % ", ".join(str(d) for d in r["input_shape"]),
            "input_range = [%s, %s]" % (repr(float(r["range"][0])), repr(float(r["range"][1]))),
            'layout = "NHWC"',
            "outputs = [",
        ] + ["  { name = %s, shape = [%s] }," % (toml_str(n), ", ".join(str(d) for d in s))
             for n, s in r["outputs"]] + [
            "]",
            "source_package = %s" % toml_str(SOURCE_PACKAGE),
            "source_version = %s" % toml_str(SOURCE_VERSION),
            "source_path = %s" % toml_str(r["member"]),
            "source_sha256 = %s" % toml_str(r["tflite_sha256"]),
            'license = "Apache-2.0"',
            "max_abs_diff_vs_tflite = { %s }" % ", ".join(
                "%s = %.3g" % (toml_str(k), v) for k, v in r["diffs"].items()),
            "",
        ]
    with open(os.path.join(out, "manifest.toml"), "w") as f:
        f.write("\n".join(lines))
    print()
    for r in results:
        print("%s  %s" % (r["sha256"], r["file"]))


if __name__ == "__main__":
    main()
