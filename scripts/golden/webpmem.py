#!/usr/bin/python3
"""Write the lossy WebP files of internal/data's memory test.

TestImageBytesWebP (internal/data/image_mem_test.go) decodes them and
holds what the decoder allocated against imageBytes, the estimate the
memory limit counts. They must be large for the per-pixel allocations to
dominate (640x480), and small files: a flat colour costs VP8 almost
nothing, whatever the size.

    /usr/bin/python3 scripts/golden/webpmem.py

(from the repository root) writes internal/data/testdata/images/mem/:

    lossy.webp        640x480, opaque (VP8: YCbCr 4:2:0)
    lossy-alpha.webp  640x480 with an alpha plane of 12 levels in bands
                      (VP8X + ALPH, the alpha compressed with VP8L's
                      colour indexing, 2 pixels a byte, its costliest
                      packing) over a flat colour

The Go tests never run Python.
"""

import os

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "internal", "data", "testdata", "images", "mem")


def main():
    os.makedirs(OUT, exist_ok=True)
    w, h = 640, 480
    Image.new("RGB", (w, h), (200, 100, 50)).save(os.path.join(OUT, "lossy.webp"), "WEBP", quality=80)
    a = np.zeros((h, w), np.uint8)
    for i in range(12):
        a[:, i * w // 12:(i + 1) * w // 12] = 20 * i + 15
    im = Image.new("RGBA", (w, h), (200, 100, 50, 255))
    im.putalpha(Image.fromarray(a, "L"))
    im.save(os.path.join(OUT, "lossy-alpha.webp"), "WEBP", quality=80)


if __name__ == "__main__":
    main()
