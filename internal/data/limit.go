package data

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/safeio"
)

// limit bounds the memory a reader may fill (LoadOptions.MaxBytes and
// LimitName, SeqOptions.MaxBytes and LimitName).
type limit struct {
	max  int64  // bytes; 0: no limit
	name string // names the limit in messages, e.g. "training.memory_limit 64MiB"
}

// newLimit checks a caller's byte limit; name labels the message.
func newLimit(name string, max int64, what string) (limit, error) {
	if max < 0 {
		return limit{}, fmt.Errorf("%s: byte limit %d is negative (0 means no limit)", name, max)
	}
	return limit{max: max, name: what}, nil
}

// check refuses content of path (a noun phrase, for the message) that
// would need more than the limit, before anything is allocated for it.
func (l limit) check(path, content string, need int64) error {
	if l.max > 0 && need > l.max {
		return &safeio.TooLargeError{Path: path, Size: need, Limit: l.max, What: l.name, Content: content}
	}
	return nil
}

// mulBytes returns n*size, saturated at math.MaxInt64, for comparing with
// a limit.
func mulBytes(n, size int64) int64 {
	if n > 0 && size > math.MaxInt64/n {
		return math.MaxInt64
	}
	return n * size
}
