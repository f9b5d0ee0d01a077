#!/usr/bin/env bash
# Renders a `lpsim compare --report DIR` page in headless Chromium (Debian
# `chromium`, installed with apt-get when missing and run as root) and checks
# that the screenshot is not blank: many distinct colours, a share of
# non-white pixels, and the plots' first line colour (gnuplot's #9400d3),
# which only the SVG plots draw.
# Usage: bash scripts/check_report.sh DIR [SCREENSHOT.png]
# Exit codes: 0 the page rendered, 1 blank or failed render, 2 bad input.
set -euo pipefail

if (($# < 1 || $# > 2)); then
  echo "usage: bash scripts/check_report.sh DIR [SCREENSHOT.png]" >&2
  exit 2
fi
dir=$1
page="$dir/index.html"
if [[ ! -f $page ]]; then
  echo "check_report: $page: no such file (make one with: lpsim compare --report $dir)" >&2
  exit 2
fi

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "check_report: installing chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
    browser=$(command -v chromium)
  else
    echo "check_report: chromium is not installed: apt-get install chromium (as root)" >&2
    exit 2
  fi
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
shot=${2:-$scratch/screenshot.png}
url="file://$(realpath "$page")"
# No network, no first-run or background work: a hermetic render of one file.
if ! timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$scratch/profile" --screenshot="$shot" \
  --window-size=1280,2000 "$url" >"$scratch/chromium.log" 2>&1; then
  echo "check_report: chromium failed on $url:" >&2
  tail -5 "$scratch/chromium.log" >&2
  exit 1
fi
if [[ ! -s $shot ]]; then
  echo "check_report: chromium wrote no screenshot for $url" >&2
  tail -5 "$scratch/chromium.log" >&2
  exit 1
fi

# A PNG decoder in the standard library (zlib + struct): 8-bit RGB or RGBA.
python3 - "$shot" <<'EOF'
import struct, sys, zlib

path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"check_report: {path}: not a PNG")
pos, idat, width = 8, [], None
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    kind = data[pos + 4:pos + 8]
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat.append(body)
    pos += 12 + length
if width is None or depth != 8 or ctype not in (2, 6) or interlace:
    sys.exit(f"check_report: {path}: expected an 8-bit RGB(A) non-interlaced PNG")
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(b"".join(idat))
stride = width * bpp
prev = bytearray(stride)
colours, nonwhite, purple = set(), 0, 0
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    elif f != 0:
        sys.exit(f"check_report: {path}: bad PNG filter {f} on row {y}")
    px = bytes(line)
    for x in range(0, stride, bpp):
        rgb = px[x:x + 3]
        colours.add(rgb)
        if rgb != b"\xff\xff\xff":
            nonwhite += 1
            r, g, b = rgb
            if abs(r - 148) < 24 and g < 40 and abs(b - 211) < 24:
                purple += 1
    prev = line
total = width * height
share = nonwhite / total
print(f"check_report: {path}: {width}x{height}, {len(colours)} colours, "
      f"{100 * share:.1f}% non-white, {purple} plot-line pixels")
if len(colours) < 64 or share < 0.01 or purple < 200:
    sys.exit("check_report: the page looks blank or its plots did not render "
             "(want >= 64 colours, >= 1% non-white, >= 200 plot-line pixels)")
EOF
