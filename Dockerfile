# The nettrain image: a static binary, the shipped configs and the MNIST
# files, on a small Debian with a shell (the Kubernetes example runs its
# commands through /bin/sh).
#
#   docker build -t nettrain .
#   docker run --rm nettrain train /configs/mnist-mlp.yaml --out /tmp/run
#   docker run --rm -v "$PWD/runs:/work/runs" nettrain compare-optimizers /configs/mnist-mlp.yaml --epochs 1
#
# In the image: /usr/local/bin/nettrain, /configs (configs/ with its data/),
# /data/mnist (MNIST, found through NETTRAIN_DATA=/data), working directory
# /work. Fashion-MNIST is not included: mount it and point NETTRAIN_DATA at
# a directory holding mnist/ and fashion-mnist/.
#
# The build stage is deploy/docker/build-stage.sh, which CI also runs
# outside Docker (deploy/docker/ci-check.sh).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN deploy/docker/build-stage.sh /out

FROM debian:bookworm-slim
COPY --from=build /out/ /
ENV NETTRAIN_DATA=/data
WORKDIR /work
ENTRYPOINT ["nettrain"]
CMD ["--help"]
