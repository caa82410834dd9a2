"""Build the tiny deterministic face-parsing stand-in used by tests/segmentation.rs.

Dev-time only (run by hand, never by `cargo test`):

    /work/venv-models/bin/python tools/models/make_test_segmentation_model.py tests/fixtures/segmentation

Versions used for the committed file: Python 3.11, onnx 1.16.2, numpy 1.26.4 (checked with
onnxruntime 1.18.1).

Model contract (opset 13, IR 8):
  input  `input`  float32 [1, 3, 64, 64], NCHW, normalised RGB x_c
  output `logits` float32 [1, 3, 64, 64], NCHW, classes 0 background, 1 skin, 2 hair

  logits = Conv1x1(x) + P with
    L1 = 1000 * (x_R - 0.5)         (only the red channel; G and B weights are 0)
    L0 = 1 in rows 32..63, else 0   (P, broadcast over columns)
    L2 = 1 in rows 0..31,  else 0
  so argmax is `skin` where x_R > 0.501, `hair` elsewhere in the upper half and `background`
  elsewhere in the lower half. With 8-bit inputs scaled by 1/255 (mean 0, std 1) the smallest
  |x_R - 0.5| is 0.5/255, so no pixel lies in the ambiguous band 0.5 < x_R <= 0.501.
"""

import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = 64
GAIN = 1000.0
THRESHOLD = 0.5


def build() -> onnx.ModelProto:
    w = np.zeros((3, 3, 1, 1), dtype=np.float32)
    w[1, 0, 0, 0] = GAIN  # skin logit reads the red channel only
    b = np.array([0.0, -GAIN * THRESHOLD, 0.0], dtype=np.float32)
    p = np.zeros((1, 3, N, 1), dtype=np.float32)
    p[0, 0, N // 2 :, 0] = 1.0  # background wins in the lower half
    p[0, 2, : N // 2, 0] = 1.0  # hair wins in the upper half
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["conv"], kernel_shape=[1, 1]),
        helper.make_node("Add", ["conv", "p"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "skintex_test_parsing",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, N, N])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3, N, N])],
        initializer=[
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(b, "b"),
            numpy_helper.from_array(p, "p"),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="skintex make_test_segmentation_model.py",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/segmentation")
    out.mkdir(parents=True, exist_ok=True)
    model = build()
    data = model.SerializeToString()
    (out / "test_parsing.onnx").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    try:  # optional self-check
        import onnxruntime as ort

        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        x = np.zeros((1, 3, N, N), dtype=np.float32)
        x[0, 0, :, : N // 2] = 200 / 255
        cls = sess.run(None, {"input": x})[0][0].argmax(0)
        assert (cls[:, : N // 2] == 1).all()
        assert (cls[: N // 2, N // 2 :] == 2).all()
        assert (cls[N // 2 :, N // 2 :] == 0).all()
    except ImportError:
        pass
    print(f"{out / 'test_parsing.onnx'}: {len(data)} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
