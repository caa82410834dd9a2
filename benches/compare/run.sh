#!/usr/bin/env bash
# Throughput comparison: skintex vs the scikit-image pipeline of baseline.py, one core each, on
# the same phantom close-ups. See README.md in this folder.
#
# Environment (all optional):
#   N=3             number of phantom photos
#   SIZE=3464       photo side in px (3464^2 = 12.0 MP)
#   PPM=20          px per mm
#   SEED=1          first phantom seed (phantoms are deterministic per seed)
#   PRESET=realistic  phantom preset: realistic (pores, furrows, hairs, any light; the field of
#                   view is SIZE/PPM mm, so the side can differ from SIZE by a pixel) or classic
#   SKINTEX_RUNS=3  skintex runs over the batch (the median run is reported)
#   PY_DTYPES="float64 float32"  baseline.py precisions to run (first = the headline baseline)
#   VENV=/work/venv-compare   Python venv, created from requirements.txt if missing
#   WORK=/tmp/skintex-compare output folder (photos, outputs, logs)
#   SKIP_BUILD=1    use the existing target/release/skintex instead of `cargo build --release`
set -euo pipefail

N=${N:-3}
SIZE=${SIZE:-3464}
PPM=${PPM:-20}
SEED=${SEED:-1}
PRESET=${PRESET:-realistic}
SKINTEX_RUNS=${SKINTEX_RUNS:-3}
PY_DTYPES=${PY_DTYPES:-float64 float32}
VENV=${VENV:-/work/venv-compare}
WORK=${WORK:-/tmp/skintex-compare}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SKINTEX="$ROOT/target/release/skintex"

# One thread everywhere: BLAS/OpenMP pools of numpy and scipy, and skintex's --jobs 1.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 BLIS_NUM_THREADS=1
export VECLIB_MAXIMUM_THREADS=1 NUMEXPR_NUM_THREADS=1

if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -q time >/dev/null
    else
        echo "run.sh needs GNU time (/usr/bin/time): apt-get install time" >&2
        exit 2
    fi
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    (cd "$ROOT" && cargo build --release -q)
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
fi

rm -rf "$WORK"
mkdir -p "$WORK"
# A private copy: others may rebuild target/release while this runs.
cp -p "$SKINTEX" "$WORK/skintex"
SKINTEX="$WORK/skintex"
PHOTOS="$WORK/photos"
if [ "$PRESET" = classic ]; then
    "$SKINTEX" phantom --preset classic --out "$PHOTOS" --count "$N" --seed "$SEED" --size "$SIZE" \
        --px-per-mm "$PPM" >/dev/null
else
    FOV_MM=$(python3 -c "print($SIZE / $PPM)")
    "$SKINTEX" phantom --preset "$PRESET" --out "$PHOTOS" --count "$N" --seed "$SEED" \
        --fov-mm "$FOV_MM" --px-per-mm "$PPM" >/dev/null
fi
sha256sum "$PHOTOS"/*.png >"$WORK/photos.sha256"

{
    echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "cores: $(getconf _NPROCESSORS_ONLN) online"
    echo "mem: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
    echo "kernel: $(uname -r)"
    echo "skintex: $("$SKINTEX" --version) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ', uncommitted changes in src'))"
    echo "rustc: $(rustc --version 2>/dev/null || echo '?')"
    echo "skintex binary: $(stat -c %y "$SKINTEX" | cut -d. -f1), sha256 $(sha256sum "$SKINTEX" | cut -c1-16)"
    echo "python: $("$VENV/bin/python" -c 'import platform, numpy, scipy, skimage, PIL; print(platform.python_version(), "numpy", numpy.__version__, "scipy", scipy.__version__, "scikit-image", skimage.__version__, "pillow", PIL.__version__)')"
    echo "photos: $N x ${SIZE}x${SIZE} px PNG at $PPM px/mm, preset $PRESET, seeds $SEED..$((SEED + N - 1))"
} | tee "$WORK/env.txt"

echo "load before skintex: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$WORK/env.txt"
for run in $(seq 1 "$SKINTEX_RUNS"); do
    /usr/bin/time -v -o "$WORK/skintex-$run.time" \
        "$SKINTEX" analyze "$PHOTOS" --roi full --px-per-mm "$PPM" --jobs 1 --no-qc --quiet \
        --out "$WORK/skintex-out-$run"
done
for dtype in $PY_DTYPES; do
    echo "load before python $dtype: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$WORK/env.txt"
    /usr/bin/time -v -o "$WORK/python-$dtype.time" \
        "$VENV/bin/python" "$HERE/baseline.py" --px-per-mm "$PPM" --dtype "$dtype" \
        --json "$WORK/python-$dtype.json" "$PHOTOS"/*.png | tee "$WORK/python-$dtype.log"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$WORK/env.txt"

"$VENV/bin/python" - "$WORK" "$N" "$SKINTEX_RUNS" $PY_DTYPES <<'EOF' | tee "$WORK/summary.md"
import csv, json, statistics, sys

work, n, runs, dtypes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]


def gnu_time(path):
    out = {}
    for line in open(path):
        key, _, val = line.strip().rpartition(": ")
        out[key] = val
    h, m, s = ([0, 0] + out["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"))[-3:]
    return {
        "wall": int(h) * 3600 + int(m) * 60 + float(s),
        "cpu": float(out["User time (seconds)"]) + float(out["System time (seconds)"]),
        "rss_mib": int(out["Maximum resident set size (kbytes)"]) / 1024,
        "pct": out["Percent of CPU this job got"],
    }


sk = [gnu_time(f"{work}/skintex-{r}.time") for r in range(1, runs + 1)]
med = sorted(sk, key=lambda t: t["wall"])[(runs - 1) // 2]
med_run = sk.index(med) + 1
rows = list(csv.DictReader(open(f"{work}/skintex-out-{med_run}/images.csv")))
assert all(r["status"] == "ok" for r in rows), "skintex failed on an image"
# Per-image analysis time: timings.csv (newer skintex) or images.csv duration_ms (older).
try:
    timings = list(csv.DictReader(open(f"{work}/skintex-out-{med_run}/timings.csv")))
    assert all(t.get("resumed", "no") == "no" for t in timings), "skintex resumed instead of analysing"
    sk_img = statistics.mean(float(t["total_ms"]) / 1000 for t in timings)
    sk_stages = [k for k in timings[0] if k.endswith("_ms") and k != "total_ms"]
except FileNotFoundError:
    timings, sk_stages = [], []
    sk_img = statistics.mean(float(r["duration_ms"]) / 1000 for r in rows)
py = {d: gnu_time(f"{work}/python-{d}.time") for d in dtypes}
pj = {d: json.load(open(f"{work}/python-{d}.json")) for d in dtypes}
py_img = {d: statistics.mean(r["total_s"] for r in pj[d]["results"]) for d in dtypes}
py_cpu = {d: statistics.mean(r["total_cpu_s"] for r in pj[d]["results"]) for d in dtypes}

print()
head = " | ".join(f"Python {d} | Python {d} / skintex" for d in dtypes)
print(f"| per photo, mean of {n} | skintex --jobs 1 | {head} |")
print("|---|---:|" + "---:|---:|" * len(dtypes))


def row(label, sk_v, py_v, fmt="{:.2f}", ratio=True):
    cells = " | ".join(
        f"{fmt.format(py_v[d])} | " + (f"{py_v[d] / sk_v:.1f}x" if ratio else "") for d in dtypes
    )
    print(f"| {label} | {fmt.format(sk_v)} | {cells} |")


row("process wall time, s", med["wall"] / n, {d: py[d]["wall"] / n for d in dtypes})
row("process CPU time (user+sys), s", med["cpu"] / n, {d: py[d]["cpu"] / n for d in dtypes})
row("analysis wall time, s (per-image timers)", sk_img, py_img)
row("photos / hour / core (from CPU time)", 3600 * n / med["cpu"],
    {d: 3600 * n / py[d]["cpu"] for d in dtypes}, "{:.0f}", ratio=False)
row("peak RSS, MiB", med["rss_mib"], {d: py[d]["rss_mib"] for d in dtypes}, "{:.0f}")
print(f"| CPU share of wall (GNU time) | {med['pct']} | " + " | ".join(f"{py[d]['pct']} | " for d in dtypes) + " |")
print()
print(f"skintex runs (wall s): {', '.join('%.2f' % t['wall'] for t in sk)}; median run {med_run} reported. "
      "Per-image timers: skintex timings.csv total_ms (images.csv duration_ms in older builds), "
      "Python per-image total (decode to tone, no imports).")
print()
print("| Python stage | " + " | ".join(f"{d} wall s | {d} CPU s | {d} CPU share" for d in dtypes) + " |")
print("|---|" + "---:|---:|---:|" * len(dtypes))
for k in pj[dtypes[0]]["results"][0]["stages_s"]:
    cells = []
    for d in dtypes:
        w = statistics.mean(r["stages_s"][k] for r in pj[d]["results"])
        c = statistics.mean(r["stages_cpu_s"][k] for r in pj[d]["results"])
        cells.append(f"{w:.2f} | {c:.2f} | {100 * c / py_cpu[d]:.0f} %")
    print(f"| {k} | " + " | ".join(cells) + " |")
print("| total | " + " | ".join(f"{py_img[d]:.2f} | {py_cpu[d]:.2f} | " for d in dtypes) + " |")
if sk_stages:
    print()
    print("| skintex stage (timings.csv) | wall s / photo |")
    print("|---|---:|")
    for k in sk_stages + ["total_ms"]:
        print(f"| {k[:-3]} | {statistics.mean(float(t[k]) for t in timings) / 1000:.2f} |")

# The values both pipelines define identically (roughness on the full zone, tone).
print()
sk_m = {r["image_id"]: r for r in csv.DictReader(open(f"{work}/skintex-out-{med_run}/metrics.csv"))}
pairs = [("sa", "rough_sa"), ("sq", "rough_sq"), ("ssk", "rough_ssk"), ("sku", "rough_sku"),
         ("sdq", "rough_sdq"), ("sdr", "rough_sdr"), ("sal_mm", "rough_sal_mm"), ("str", "rough_str"),
         ("glcm_contrast", "rough_glcm_contrast"), ("glcm_correlation", "rough_glcm_correlation"),
         ("tone_l_mean", "tone_l_mean"), ("tone_b_mean", "tone_b_mean"), ("tone_ita_deg", "tone_ita_deg"),
         ("lines_count", "lines_count"), ("lines_length_mm", "lines_length_mm"), ("scars_count", "scars_count")]
first = pj[dtypes[0]]["results"][0]
image_id = first["image"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
truth = json.load(open(first["image"].rsplit(".", 1)[0] + ".json"))
truth_of = {
    "lines_count": len(truth["wrinkles"]),
    "lines_length_mm": truth["total_wrinkle_length_mm"],
    "scars_count": len(truth["scars"]),
}
print(f"values on {image_id} (first photo): Python {dtypes[0]} vs skintex; phantom ground truth where it exists")
print("| value | Python | skintex | truth |")
print("|---|---:|---:|---:|")
for pk, sk_k in pairs:
    t = truth_of.get(sk_k)
    t = "" if t is None else f"{t:.5g}"
    print(f"| {sk_k} | {first['values'][pk]:.5g} | {float(sk_m[image_id][sk_k] or 'nan'):.5g} | {t} |")
EOF
