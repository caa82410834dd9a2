#!/usr/bin/env bash
# Screenshot of a study report: report-screenshot.sh REPORT.html OUT.png
# Renders the page in headless Chromium (Debian package `chromium`, or $SKINTEX_CHROMIUM) at
# 1280x2400 (or $SKINTEX_SCREENSHOT_SIZE, e.g. 420,2400 for a phone-width check) with the
# network cut off and a throw-away profile.
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: $0 REPORT.html OUT.png" >&2
  exit 2
fi
html=$1
png=$2
[ -f "$html" ] || { echo "no such file: $html" >&2; exit 2; }
chromium=${SKINTEX_CHROMIUM:-chromium}
command -v "$chromium" >/dev/null || { echo "chromium not found (install: apt-get install -y --no-install-recommends chromium)" >&2; exit 1; }
url="file://$(realpath "$html")"
out="$(realpath -m "$png")"
mkdir -p "$(dirname "$out")"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
XDG_CONFIG_HOME="$profile" XDG_CACHE_HOME="$profile" timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
  --no-first-run --no-default-browser-check --hide-scrollbars \
  --host-resolver-rules='MAP * ~NOTFOUND' --proxy-server=http://127.0.0.1:9 \
  --user-data-dir="$profile" --window-size=${SKINTEX_SCREENSHOT_SIZE:-1280,2400} --screenshot="$out" "$url" \
  >"$profile/chromium.log" 2>&1 || { cat "$profile/chromium.log" >&2; exit 1; }
[ -s "$out" ] || { echo "chromium wrote no screenshot" >&2; cat "$profile/chromium.log" >&2; exit 1; }
echo "$out"
