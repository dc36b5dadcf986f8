//go:build !unix

package train

// addressSpace is 0: no address-space limit is read on this system.
func addressSpace() int64 { return 0 }

// dataLimit is 0: no data limit is read on this system.
func dataLimit() int64 { return 0 }
