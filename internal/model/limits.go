package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nettrain/nettrain/internal/safeio"
)

// MaxConfigSize bounds the config file Load reads (16 MiB): real configs
// are a few kilobytes, and the bound keeps a wrong path (a device, a data
// file) from exhausting memory.
const MaxConfigSize = 16 << 20

// readConfig reads the config file with safeio: only a regular file, at
// most MaxConfigSize bytes, never blocking on a FIFO.
func readConfig(path string) ([]byte, error) {
	src, err := safeio.ReadFile(path, MaxConfigSize, "the config size limit")
	if err == nil {
		return src, nil
	}
	msg := osErr(err)
	var tl *safeio.TooLargeError
	if errors.As(err, &tl) {
		msg = fmt.Sprintf("it is %d bytes, more than a config may be (at most %d bytes, 16 MiB)", tl.Size, tl.Limit)
	} else if rest, ok := strings.CutPrefix(msg, path+" "); ok {
		msg = "it " + rest // "it is a named pipe (FIFO), not a regular file; ..."
	}
	return nil, &Error{File: path, Msg: "cannot read config: " + msg}
}
