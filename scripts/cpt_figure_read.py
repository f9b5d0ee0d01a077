#!/usr/bin/env python3
"""Read the training GBitOPs of CPT's CIFAR-100 figure off its pixels.

CPT's public repository (github.com/RICE-EIC/CPT, imgs/exp_cifar100.png, the
README's "Test accuracy vs. training computational cost") plots, for six
networks, static FW6/BW6 and FW8/BW8 (blue star, blue circle) against CPT
FW(3,6)/BW6 and FW(3,8)/BW8 (red star, red circle) on a GBitOPs x axis (x1e8).
The paper prints Table 2's figures for ResNet-74 and ResNet-164 only as far as
we could find; this script gives the other networks' figures, so that
docs/validation.md section 2 and tests/traces/bitops_test.cpp can cite them.

How: in each panel, the vertical grid lines (grey columns spanning the panel)
are matched to the tick labels read by eye (TICKS below) and fitted by least
squares; each marker is a connected blob of red or blue pixels, and its
centre is the middle of its horizontal extent, or, where something drawn on
top cuts one side (the blob is narrower than tall), its intact edge minus half
its height. Blobs of one colour sorted by x are the 4-, 6- and 8-bit points
(cost grows with precision). One pixel is 0.25-1.1% of a tick step; the
readings are good to about 0.2% of the value.

Standard library only (a minimal PNG decoder). Usage:
  git -C CPT show HEAD:imgs/exp_cifar100.png > exp_cifar100.png
  scripts/cpt_figure_read.py exp_cifar100.png
"""
import struct
import sys
import zlib

# Panel boxes (x0, x1, y0, y1), inside the frames, and their x tick labels.
PANELS = [
    ("ResNet-38", (64, 483, 187, 455), [0.4, 0.6, 0.8, 1.0, 1.2]),
    ("ResNet-74", (571, 990, 187, 455), [0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75]),
    ("ResNet-110", (1040, 1497, 187, 455), [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]),
    ("ResNet-152", (64, 483, 544, 805), [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5]),
    ("ResNet-164", (571, 990, 544, 805), [2, 3, 4, 5, 6]),
    ("MobileNetV2", (1040, 1497, 544, 805), [0.4, 0.6, 0.8, 1.0, 1.2, 1.4]),
]


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    if depth != 8 or interlace != 0 or colour not in (2, 6):
        sys.exit(f"{path}: expected 8-bit RGB(A), not interlaced")
    bpp = 4 if colour == 6 else 3
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        kind, cur = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = cur[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                cur[x] = (cur[x] + a) & 255
            elif kind == 2:
                cur[x] = (cur[x] + b) & 255
            elif kind == 3:
                cur[x] = (cur[x] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(cur[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = cur
    return rows


def colour(p):
    r, g, b = p
    if r > 200 and g < 90 and b < 90:
        return "red"
    if b > 200 and r < 90 and g < 90:
        return "blue"
    return None


def grid_lines(px, box):
    x0, x1, y0, y1 = box
    grey = lambda p: p[0] == p[1] == p[2] and 150 <= p[0] <= 235
    cols = [x for x in range(x0, x1 + 1)
            if sum(grey(px[y][x]) for y in range(y0, y1)) > 0.6 * (y1 - y0)]
    lines, run = [], []
    for x in cols:  # an antialiased line covers one or two adjacent columns
        if run and x != run[-1] + 1:
            lines.append(sum(run) / len(run))
            run = []
        run.append(x)
    if run:
        lines.append(sum(run) / len(run))
    return lines


def blobs(px, box, want):
    x0, x1, y0, y1 = box
    seen, found = set(), []
    for y in range(y0, y1):
        for x in range(x0, x1):
            if (x, y) in seen or colour(px[y][x]) != want:
                continue
            stack, pts = [(x, y)], []
            seen.add((x, y))
            while stack:
                a, b = stack.pop()
                pts.append((a, b))
                for n in ((a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)):
                    if (x0 <= n[0] < x1 and y0 <= n[1] < y1 and n not in seen
                            and colour(px[n[1]][n[0]]) == want):
                        seen.add(n)
                        stack.append(n)
            found.append([min(p[0] for p in pts), max(p[0] for p in pts),
                          min(p[1] for p in pts), max(p[1] for p in pts), len(pts)])
    # A grid line drawn over a marker splits it: merge blobs whose boxes touch.
    merged = []
    for b in sorted(found):
        m = merged[-1] if merged else None
        if m and b[0] <= m[1] + 2 and b[2] <= m[3] + 2 and m[2] <= b[3] + 2:
            merged[-1] = [min(m[0], b[0]), max(m[1], b[1]), min(m[2], b[2]), max(m[3], b[3]),
                          m[4] + b[4]]
        else:
            merged.append(b)
    return [b for b in merged if b[4] >= 60]  # markers, not text or arrow tips


def centre(b, px):
    xa, xb, ya, yb, _ = b
    width, height = xb - xa, yb - ya
    if width >= height - 1:
        return (xa + xb) / 2
    # One side is covered: keep the edge whose column is longer (the intact one).
    col = lambda x: sum(colour(px[y][x]) is not None for y in range(ya, yb + 1))
    return xa + height / 2 if col(xa) >= col(xb) else xb - height / 2


def fit(points):
    n = len(points)
    sx = sum(p for p, _ in points)
    sy = sum(v for _, v in points)
    sxx = sum(p * p for p, _ in points)
    sxy = sum(p * v for p, v in points)
    a = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return a, (sy - a * sx) / n


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    px = read_png(sys.argv[1])
    print("| network | static 6/6 | CPT 3-6/6 | static 8/8 | CPT 3-8/8 | 3-6/6 ratio | 3-8/8 ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, box, ticks in PANELS:
        lines = grid_lines(px, box)
        if len(lines) != len(ticks):
            sys.exit(f"{name}: {len(lines)} grid lines for {len(ticks)} ticks")
        a, b = fit(list(zip(lines, ticks)))
        value = {}
        for want, names in (("blue", ("s4", "s6", "s8")), ("red", ("c34", "c36", "c38"))):
            found = sorted(blobs(px, box, want))
            # The legend-less panels hold exactly three markers of each colour.
            if len(found) != 3:
                sys.exit(f"{name}: {len(found)} {want} markers, expected 3")
            for key, blob in zip(names, found):
                value[key] = a * centre(blob, px) + b
        print(f"| {name} | {value['s6']:.3f}e8 | {value['c36']:.3f}e8 | {value['s8']:.3f}e8 | "
              f"{value['c38']:.3f}e8 | {value['c36'] / value['s6']:.4f} | "
              f"{value['c38'] / value['s8']:.4f} |")


if __name__ == "__main__":
    main()
