//go:build cgo && linux

package main

/*
#include <malloc.h>

static void nettrain_one_arena(void) {
#ifdef M_ARENA_MAX // glibc; musl has no arenas
	mallopt(M_ARENA_MAX, 1);
#endif
}
*/
import "C"

// With cgo (which the net package links in when a C compiler is at hand),
// the Go runtime starts its threads through the C library, and glibc
// gives every thread that calls malloc an arena of its own: 64 MiB of
// address space each, some 450 MiB for nettrain's threads, none of it
// used (Go's memory is its own). Under ulimit -v that space was gone
// before any data was read. One arena is all the C side needs; the arenas
// made before this runs stay, and count in what the process has mapped
// when its memory limit is measured (train.MemoryLimit).
func init() { C.nettrain_one_arena() }
