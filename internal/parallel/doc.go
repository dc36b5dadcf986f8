// Package parallel is nettrain's thread pool: a fixed set of persistent
// goroutines that run parallel loops (Pool.For) whose results do not depend
// on how many goroutines run them. The engine's layers, its loss and
// gradient norm, the trainer's batch filling and optimizer update, and the
// float32 GEMM (gemm.Parallel) all run on one Pool per run.
//
// # Contract
//
// For(n, grain, t) cuts the items [0, n) into the chunks [0, grain),
// [grain, 2*grain), ... (the last one possibly shorter) and calls
// t.Run(w, lo, hi) exactly once per chunk, w being the goroutine (0 is the
// caller, 1 to Threads()-1 the workers). It returns when every chunk is
// done. These invariants hold:
//
//   - The chunking depends only on n and grain, never on the number of
//     threads. A task whose chunks write disjoint outputs, or reduce into
//     per-chunk slots that the caller combines in chunk order, gives the
//     same bits on any thread count, and the same bits as running the
//     chunks in order on one goroutine.
//   - For does not allocate. A task is a small struct kept by its owner (a
//     layer, a GEMM), its fields set before the call; a pointer to it
//     converts to Task without allocating, unlike a closure.
//   - Calls on one Pool are serialised (a mutex), so the pool's state holds
//     one loop at a time. A task must not call For on its own pool: that
//     deadlocks.
//   - A nil *Pool is valid: For runs the chunks in order on the caller and
//     Threads reports 1. So is a Pool of one thread. NewPool(threads < 1)
//     takes Cores(): GOMAXPROCS, at most the CPU affinity mask's CPUs.
//
// For panics on grain < 1, on more than MaxChunks (65535) chunks, and on a
// closed Pool: these are programmer errors. Nothing else fails.
//
// # Hand-off
//
// A call publishes the loop in one atomic word, generation<<32 | back<<16 |
// front, the unclaimed chunks being [front, back). Goroutines claim a chunk
// with a compare-and-swap on that word, so a claim can never mix two loops:
// the caller takes front (chunks from the first up), the workers take
// back-1 (from the last down). A goroutine thus tends to get the same items
// call after call, and its cache keeps what it last wrote there; which
// goroutine runs which chunk never changes a result. Claiming rather than
// fixed blocks lets the running goroutines take the work of one the OS has
// not scheduled yet.
//
// Idle workers poll the word for spinTime (500 microseconds) after each
// loop, spanning the serial stretches of a training step, then park,
// because waking a parked goroutine costs as much as a small GEMM. The
// caller likewise polls for the last chunks before parking. On Linux, in
// a pool that fits the cores (Cores), a goroutine parks in the futex
// system call on a word of its own, which allocates nothing. Elsewhere
// it parks on a channel, which makes the Go runtime allocate a waiter
// record whenever its caches have none (a run whose convolutions park in
// their uneven tails counted these as allocations per step); so does a
// larger pool, since each goroutine parked in a system call holds an OS
// thread, and waking dozens of them onto a few cores was slow. Workers
// live until Close; the Pool must not be used after it.
//
// # What a hand-off costs
//
// MeasureCrossCore measures what moving data between two cores costs at
// the moment (a cache line's round trip, the extra time to read 1 MiB
// another core has just written), pinning two goroutines to two cores for
// a few tens of milliseconds and restoring their affinity. `nettrain
// bench` records it between the turns of a multi-threaded run: on a
// virtual machine it changes with the host's placement of the virtual
// CPUs, and a step that hands data between the cores at every layer
// scales with it.
//
// # Memory
//
// NewPool allocates the pool's state and starts its goroutines; nothing
// else allocates. Scratch space per goroutine belongs to the tasks, indexed
// by w (gemm.Parallel keeps one packing workspace per goroutine that way).
package parallel
