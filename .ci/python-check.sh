#!/usr/bin/env bash
# The Python package: build its wheel in a fresh venv (maturin, numpy, pandas and pytest from
# PyPI), install it there and run its pytest suite, which compares it with the `skintex` command
# built by `cargo test --release` (target/release/skintex).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The extension crate is a workspace of its own (the root crate's fmt and clippy never see it).
(cd python && cargo fmt --check && CARGO_TARGET_DIR="$root/target" cargo clippy --release --all-targets --quiet -- -D warnings)

python3 -m venv "$scratch/venv"
py="$scratch/venv/bin"
"$py/pip" install --quiet --disable-pip-version-check maturin numpy pandas pytest

# The wheel's cargo build shares target/ with the crate's (inside this fresh clone): the
# dependencies the two workspaces compile alike are built once.
started=$(date +%s)
(cd python && CARGO_TARGET_DIR="$root/target" "$py/maturin" build --release --quiet --out "$scratch/dist")
echo "wheel built in $(( $(date +%s) - started )) s"
"$py/pip" install --quiet --disable-pip-version-check "$scratch"/dist/skintex-*.whl

started=$(date +%s)
SKINTEX_BIN="$root/target/release/skintex" "$py/pytest" -q -p no:cacheprovider python/tests
echo "pytest ran in $(( $(date +%s) - started )) s"
