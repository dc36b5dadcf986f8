#!/bin/bash
# CI check of the Dockerfile as far as a machine without a Docker engine
# allows: it runs the build stage (deploy/docker/build-stage.sh, the script
# the Dockerfile runs) into a temporary root, checks the binary is static
# (file, ldd), then runs the image's commands from that root the way the
# runtime stage would: no Go toolchain on PATH, an empty home (so no module
# cache), NETTRAIN_DATA pointing at the copied data, the configs from the
# root. What it cannot check: that the base images pull, that `docker build`
# itself succeeds, and the image's size.
#   bash deploy/docker/ci-check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS=0
fail() { echo "docker-check: FAIL: $*" >&2; exit 1; }

if ! command -v file >/dev/null; then
  echo "docker-check: installing file"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq file; } >/tmp/ci-apt-file.log 2>&1; then
    tail -n 20 /tmp/ci-apt-file.log >&2
    fail "cannot install file, which this check needs"
  fi
fi

# The Dockerfile runs the same script and sets the same NETTRAIN_DATA.
grep -qx 'RUN deploy/docker/build-stage.sh /out' Dockerfile || fail "the Dockerfile does not run deploy/docker/build-stage.sh /out"
grep -qx 'COPY --from=build /out/ /' Dockerfile || fail "the Dockerfile does not copy /out/ to /"
grep -qx 'ENV NETTRAIN_DATA=/data' Dockerfile || fail "the Dockerfile does not set NETTRAIN_DATA=/data"
# The build image's Go is the go.mod's release (golang:1.26-... for go 1.26.x).
go_minor=$(sed -n 's/^go \([0-9]*\.[0-9]*\).*/\1/p' go.mod)
grep -q "^FROM golang:$go_minor-" Dockerfile || fail "the Dockerfile's build image is not golang:$go_minor-... (go.mod says go $go_minor)"

tmp=$(mktemp -d /tmp/nettrain-docker-ci.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/image root"
deploy/docker/build-stage.sh "$root"
bin="$root/usr/local/bin/nettrain"
file "$bin" | grep -q 'statically linked' || fail "not static: $(file "$bin")"
if ldd "$bin" >"$tmp/ldd" 2>&1 || ! grep -q 'not a dynamic executable' "$tmp/ldd"; then
  fail "ldd sees a dynamic executable: $(cat "$tmp/ldd")"
fi
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  [ -s "$root/data/mnist/$f" ] || fail "no $f in the image's /data/mnist"
done
echo "docker-check: static binary, configs and MNIST in place ($(du -sh "$root" | cut -f1) in all)"

# The runtime stage: a clean environment with no Go and no module cache.
mkdir -p "$tmp/home" "$tmp/work"
run() { (cd "$tmp/work" && env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$@"); }
run NETTRAIN_DATA="$root/data" "$bin" train "$root/configs/mnist-mlp.yaml" --set training.steps=1 --out mnist >"$tmp/train.log" 2>&1 ||
  fail "train with NETTRAIN_DATA: $(cat "$tmp/train.log")"
run NETTRAIN_DATA="$root/data" "$bin" eval "$root/configs/mnist-mlp.yaml" --checkpoint mnist/best.safetensors >"$tmp/eval.log" 2>&1 ||
  fail "eval with NETTRAIN_DATA: $(cat "$tmp/eval.log")"
grep -q accuracy "$tmp/eval.log" || fail "eval printed no accuracy: $(cat "$tmp/eval.log")"
# The data really comes from NETTRAIN_DATA: without it the same command fails.
if run "$bin" train "$root/configs/mnist-mlp.yaml" --set training.steps=1 --out nodata >"$tmp/nodata.log" 2>&1; then
  fail "train found MNIST without NETTRAIN_DATA: the check does not isolate the image's data"
fi
grep -q 'not found' "$tmp/nodata.log" || fail "without NETTRAIN_DATA train failed for another reason: $(cat "$tmp/nodata.log")"
# A config with data next to it, from the image's /configs.
run "$bin" train "$root/configs/regression-mlp.yaml" --set training.epochs=1 --out regression >"$tmp/reg.log" 2>&1 ||
  fail "train configs/regression-mlp.yaml: $(cat "$tmp/reg.log")"
echo "docker-check: train and eval run from the image root with NETTRAIN_DATA and no Go; OK (${SECONDS}s)"
