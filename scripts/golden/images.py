#!/usr/bin/python3
"""Generate the PIL golden pixels of nettrain's image reader.

nettrain reads images as torchvision's loaders do, through PIL:
convert("L") for one channel, convert("RGB") for three. This script
writes small image files with PIL's encoders (libwebp for WebP) and, for
each, the pixels PIL reads from it, as JSON testdata that
internal/data/pil_test.go compares data.ReadImage against; the Go tests
never run Python.

    /usr/bin/python3 scripts/golden/images.py

(from the repository root) writes

    internal/data/testdata/images/pil/<name>   the image files
    internal/data/testdata/images/pil.json     PIL's pixels of each

Everything is deterministic: a rerun with the same PIL and libwebp
rewrites the same bytes (the files record the versions that made them).

    /usr/bin/python3 scripts/golden/images.py compare [FILE...]

measures instead how far nettrain's pixels are from PIL's, for image
files or, without any, for the set the README's figures come from (JPEG,
lossy WebP and PNG, written to a temporary folder): for each file and 1
and 3 channels, at its own size and resized (bilinear to 20x20 and to
twice its size, nearest to those and to 100x13), the largest difference
and the share of values that differ. It builds scripts/golden/dumpimage
for nettrain's side.

JSON layout: {"pil": version, "libwebp": version, "images": [{"name",
"height", "width", "rgb": [C*H*W bytes, CHW order], "l": [H*W bytes],
"resized": [{"method", "height", "width", "rgb", "l"}]}]}. "resized" is
PIL's resize(BILINEAR) or resize(NEAREST) of the converted image;
nettrain is held to the nearest one exactly, to the bilinear one within 1
(see the README's Images). The sizes include ones where a target pixel's
centre falls exactly between two source pixels (16 to 5, 7 or 9).
"""

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, features

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "internal", "data", "testdata", "images")


def flat(w, h, rgb):
    return Image.new("RGB", (w, h), rgb)


def gradient(w, h):
    """Smooth ramps in every channel, with a one-pixel checker in green,
    so that chroma upsampling and the colour conversion both show."""
    y, x = np.mgrid[0:h, 0:w]
    r = 20 + 215 * x / max(w - 1, 1)
    g = 40 + 150 * y / max(h - 1, 1) + 40 * ((x + y) % 2)
    b = 230 - 200 * (x + y) / max(w + h - 2, 1)
    a = np.stack([r, g, b], axis=-1).round().clip(0, 255).astype(np.uint8)
    return Image.fromarray(a, "RGB")


def with_alpha(im):
    """im with alpha by column: the left third transparent (its colour
    still stored), the middle third half transparent, the rest opaque."""
    w, h = im.size
    a = np.zeros((h, w), np.uint8)
    a[:, w // 3: 2 * w // 3] = 128
    a[:, 2 * w // 3:] = 255
    out = im.convert("RGBA")
    out.putalpha(Image.fromarray(a, "L"))
    return out


def webp(im, **kw):
    b = io.BytesIO()
    im.save(b, "WEBP", **kw)
    return b.getvalue()


def gif_global():
    """An 8x6 palette GIF whose index 0, transparent, stores (200, 100, 50)."""
    im = Image.new("P", (8, 6))
    pal = [200, 100, 50, 10, 20, 30, 250, 240, 5, 90, 180, 60]
    im.putpalette(pal + [0] * (768 - len(pal)))
    im.putdata([(x * 3 + y) % 4 for y in range(6) for x in range(8)])
    b = io.BytesIO()
    im.save(b, "GIF", transparency=0)
    return b.getvalue()


def gif_local(data):
    """The same GIF with its colour table moved from the logical screen
    (global) to the image descriptor (local)."""
    flags = data[10]
    assert flags & 0x80, "PIL wrote no global colour table"
    n = 3 << ((flags & 7) + 1)
    table = data[13:13 + n]
    rest = bytearray(data[:13] + data[13 + n:])
    rest[10] = flags & 0x70  # no global table; colour resolution kept
    i = 13
    while rest[i] == 0x21:  # extensions before the image: skip their sub-blocks
        i += 2
        while rest[i]:
            i += rest[i] + 1
        i += 1
    assert rest[i] == 0x2C
    rest[i + 9] = 0x80 | (flags & 7)  # a local table of the same size
    return bytes(rest[:i + 10] + table + rest[i + 10:])


def anim_webp():
    frames = [flat(4, 4, (255, 0, 0)), flat(4, 4, (0, 0, 255))]
    b = io.BytesIO()
    frames[0].save(b, "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    return b.getvalue()


def rgb_colours():
    """16x16 colours of a seeded draw: their luminance tests convert("L")'s
    integer rounding."""
    a = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    return Image.fromarray(a, "RGB")


def cmyk_blocks():
    """16x16 CMYK in four flat 8x8 blocks: a JPEG of it decodes to the
    same CMYK in any decoder, so that it tests the conversion to RGB."""
    a = np.zeros((16, 16, 4), np.uint8)
    for i, c in enumerate([(201, 33, 202, 0), (18, 132, 103, 40), (60, 121, 178, 200), (250, 5, 128, 99)]):
        y, x = divmod(i, 2)
        a[8 * y:8 * y + 8, 8 * x:8 * x + 8] = c
    b = io.BytesIO()
    Image.fromarray(a, "CMYK").save(b, "JPEG", quality=100, subsampling=0)
    return b.getvalue()


def png(im):
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


def files():
    """(name, bytes, resized sizes [(h, w)]) of every golden image."""
    g = gif_global()
    return [
        # Lossy WebP: limited-range YCbCr, 4:2:0 chroma (fancy upsampling).
        ("white.webp", webp(flat(8, 8, (255, 255, 255)), quality=90), []),
        ("black.webp", webp(flat(8, 8, (0, 0, 0)), quality=90), []),
        ("grey.webp", webp(flat(8, 8, (230, 230, 230)), quality=90), []),
        ("flat.webp", webp(flat(8, 8, (200, 100, 50)), quality=90), []),
        ("gradient-odd.webp", webp(gradient(13, 9), quality=80), []),
        ("gradient-even.webp", webp(gradient(16, 10), quality=80), []),
        ("alpha-lossy.webp", webp(with_alpha(gradient(11, 7)), quality=80, exact=True), []),
        ("alpha-lossless.webp", webp(with_alpha(gradient(9, 6)), lossless=True, exact=True), []),
        # GIF: the transparent index keeps its palette colour.
        ("trans-global.gif", g, [(3, 4)]),
        ("trans-local.gif", gif_local(g), []),
        # PNG: convert("L")'s integer luminance, and resizing.
        ("colours.png", png(rgb_colours()), [(5, 7), (20, 24), (16, 9)]),
        ("gradient.png", png(gradient(13, 9)), [(28, 28), (4, 6)]),
        # JPEG: the CMYK to RGB conversion (the decoding itself differs).
        ("cmyk-blocks.jpg", cmyk_blocks(), []),
    ]


def pixels(im):
    rgb = np.asarray(im.convert("RGB"), np.uint8).transpose(2, 0, 1)
    lum = np.asarray(im.convert("L"), np.uint8)
    return rgb, lum


def generate():
    d = os.path.join(OUT, "pil")
    os.makedirs(d, exist_ok=True)
    out = {"pil": Image.__version__, "libwebp": features.version("webp"), "images": []}
    for name, data, sizes in files():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        im = Image.open(os.path.join(d, name))
        im.load()
        rgb, lum = pixels(im)
        entry = {"name": name, "height": im.height, "width": im.width,
                 "rgb": rgb.ravel().tolist(), "l": lum.ravel().tolist(), "resized": []}
        for h, w in sizes:
            for method, resample in [("bilinear", Image.BILINEAR), ("nearest", Image.NEAREST)]:
                r = np.asarray(im.convert("RGB").resize((w, h), resample), np.uint8).transpose(2, 0, 1)
                l = np.asarray(im.convert("L").resize((w, h), resample), np.uint8)
                entry["resized"].append({"method": method, "height": h, "width": w,
                                         "rgb": r.ravel().tolist(), "l": l.ravel().tolist()})
        out["images"].append(entry)
    with open(os.path.join(OUT, "pil.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, "pil", "anim.webp"), "wb") as f:
        f.write(anim_webp())


def pil_sample(path, c, h, w, method):
    im = Image.open(path).convert("L" if c == 1 else "RGB")
    if im.size != (w, h):
        im = im.resize((w, h), Image.NEAREST if method == "nearest" else Image.BILINEAR)
    a = np.asarray(im, np.uint8)
    return a[None] if c == 1 else a.transpose(2, 0, 1)


def measure_set(d):
    """Writes the images the README's figures were measured on to d: 28x28
    uniform noise (the worst case for a lossy codec) as JPEG (4:2:0,
    quality 75, baseline and progressive; grayscale), lossy WebP and PNG,
    and a smooth 64x48 gradient with mild noise as JPEG (quality 90)."""
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8), "RGB")
    y, x = np.mgrid[0:48, 0:64]
    smooth = np.stack([x * 4, y * 5, 255 - x * 2 - y * 2], -1) + rng.normal(0, 4, (48, 64, 3))
    photo = Image.fromarray(smooth.round().clip(0, 255).astype(np.uint8), "RGB")
    noise.save(os.path.join(d, "noise.jpg"), quality=75)
    noise.save(os.path.join(d, "noise-progressive.jpg"), quality=75, progressive=True)
    noise.convert("L").save(os.path.join(d, "noise-gray.jpg"), quality=75)
    photo.save(os.path.join(d, "smooth.jpg"), quality=90)
    noise.save(os.path.join(d, "noise.webp"), quality=75)
    noise.save(os.path.join(d, "noise.png"))
    return sorted(os.path.join(d, f) for f in os.listdir(d))


def compare(paths):
    """Prints, for each file, channel count and size (its own, 20x20, twice
    its own; resized bilinear and nearest), the largest difference between
    nettrain's and PIL's values and the share of values that differ."""
    tmp = tempfile.mkdtemp()
    exe = os.path.join(tmp, "dumpimage")
    subprocess.run(["go", "build", "-o", exe, "./scripts/golden/dumpimage"], cwd=ROOT, check=True)
    try:
        if not paths:
            os.mkdir(os.path.join(tmp, "set"))
            paths = measure_set(os.path.join(tmp, "set"))
        for p in paths:
            w, h = Image.open(p).size
            name = os.path.basename(p) if p.startswith(tmp) else p
            for c in (1, 3):
                for H, W, method in [(h, w, "bilinear"), (20, 20, "bilinear"), (2 * h, 2 * w, "bilinear"),
                                     (20, 20, "nearest"), (2 * h, 2 * w, "nearest"), (100, 13, "nearest")]:
                    r = subprocess.run([exe, p, str(c), str(H), str(W), method], capture_output=True)
                    if r.returncode:
                        print(f"{name}: {r.stderr.decode().strip()}")
                        break
                    if (H, W) == (h, w) and method == "nearest":
                        continue
                    got = np.frombuffer(r.stdout, np.uint8).reshape(c, H, W).astype(int)
                    d = np.abs(got - pil_sample(p, c, H, W, method).astype(int))
                    how = "own size" if (H, W) == (h, w) else method
                    print(f"{name:32s} C={c} {H:4d}x{W:<4d} {how:9s} max {d.max():3d}  differ {100 * np.mean(d > 0):5.1f}%")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    if sys.argv[1:2] == ["compare"]:
        compare(sys.argv[2:])
    else:
        generate()
