#!/bin/sh
# Write internal/session/testdata/decoder1: checkpoints written by nettrain
# at commit 96b8ee6, whose image decoding was version 1 (before it matched
# PIL: data.ImageDecoder), and the image folder they were trained on.
# TestResumeImageDecoding and TestEvalImageDecoding resume and evaluate
# them with this nettrain, whose decoding reads other pixels from some of
# these images.
#
#   sh scripts/golden/decoder1.sh      (from the repository root)
#
# needs git, go and /usr/bin/python3 with PIL and numpy. It writes
#
#   data/a/*.png, data/b/*.png   4x4 RGB PNG of seeded random colours
#   data/b/3.gif                 4x4 GIF whose transparent index stores
#                                (200, 100, 50): version 1 read it black
#   config.yaml                  channels 1: every image is made grayscale
#   gray.safetensors             nettrain 96b8ee6's checkpoint of config.yaml
#                                after 2 steps
#   rgb.safetensors              the same with --set data.image.channels=3
#                                --set model.input=[3,4,4]: only the GIF
#                                decodes otherwise
set -eu
root=$(pwd)
out=$root/internal/session/testdata/decoder1
tmp=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tmp/src" 2>/dev/null; rm -rf "$tmp"' EXIT
git -C "$root" worktree add -q --detach "$tmp/src" 96b8ee6
(cd "$tmp/src" && go build -o "$tmp/nt-old" ./cmd/nettrain)
rm -rf "$out"
mkdir -p "$out/data/a" "$out/data/b"
/usr/bin/python3 - "$out/data" <<'PY'
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(0)
for c, n in (("a", 4), ("b", 3)):
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8), "RGB").save(f"{d}/{c}/{i}.png")
im = Image.new("P", (4, 4))
pal = [200, 100, 50, 10, 20, 30, 250, 240, 5, 90, 180, 60]
im.putpalette(pal + [0] * (768 - len(pal)))
im.putdata([(x + 2 * y) % 4 for y in range(4) for x in range(4)])
im.save(f"{d}/b/3.gif", transparency=0)
PY
cat > "$out/config.yaml" <<'YAML'
# Written by scripts/golden/decoder1.sh: the config of gray.safetensors and
# (with channels 3 and input [3, 4, 4]) rgb.safetensors.
name: decoder1
seed: 1
data:
  train: data
  validation_split: 0.25
  normalize: unit
  image: {channels: 1, size: [4, 4]}
model:
  input: [1, 4, 4]
  layers:
    - flatten
    - dense: {units: classes}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 2, batch_size: 2}
YAML
"$tmp/nt-old" train "$out/config.yaml" --set training.steps=2 --out "$tmp/gray" >/dev/null
"$tmp/nt-old" train "$out/config.yaml" --set training.steps=2 --set data.image.channels=3 --set 'model.input=[3,4,4]' --out "$tmp/rgb" >/dev/null
cp "$tmp/gray/last.safetensors" "$out/gray.safetensors"
cp "$tmp/rgb/last.safetensors" "$out/rgb.safetensors"
