// Package onnxpb is the Go code protoc-gen-go generates from ONNX's
// official onnx.proto (ONNX 1.12.0, IR version 8, as Debian's libonnx-dev
// 1.12.0 ships it at /usr/include/onnx/onnx.proto; the file here is that
// file unchanged). ONNX is Apache-2.0 (the SPDX line of onnx.proto; the
// licence text is LICENSE beside it). Nothing here is written by hand:
// regenerate with protoc (Debian's protobuf-compiler) and protoc-gen-go
// v1.36.12 (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/nettrain/nettrain/internal/export/onnxpb onnx.proto
