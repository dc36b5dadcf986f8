// Package tfpb holds the protocol buffer messages of TensorFlow event files
// that nettrain writes (Event, Summary), generated from event.proto.
package tfpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative event.proto
