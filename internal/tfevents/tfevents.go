// Package tfevents writes TensorBoard event files: scalar summaries in
// TensorFlow's record format, readable by `tensorboard --logdir`.
//
// A file is named events.out.tfevents.<unix seconds>.<host> and holds
// records, each
//
//	uint64 length (little-endian)
//	uint32 masked CRC-32C of the 8 length bytes
//	length bytes of data: a serialized tensorflow.Event
//	uint32 masked CRC-32C of the data
//
// where masking is ((crc >> 15) | (crc << 17)) + 0xa282ead8. The first
// record is an Event whose file_version is "brain.Event:2"; every other
// one holds a Summary of scalar values (simple_value) at a step. The
// messages are tfpb's, generated from TensorFlow's own definitions.
//
// Records are buffered and reach the file at Flush and Close: a crash
// loses at most what was written since the last Flush, and a record cut
// short is dropped by TensorBoard's reader.
package tfevents

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/nettrain/nettrain/internal/tfevents/tfpb"
)

// FileVersion is the file_version of an event file's first record.
const FileVersion = "brain.Event:2"

// Prefix starts the name of every event file.
const Prefix = "events.out.tfevents."

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaskedCRC is the masked CRC-32C of b that TensorFlow's record format
// stores.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// Scalar is one tagged value.
type Scalar struct {
	Tag   string
	Value float64
}

// Writer appends events to one event file.
type Writer struct {
	f    *os.File
	w    *bufio.Writer
	path string
	buf  []byte
	ev   tfpb.Event
	sum  tfpb.Summary
	what tfpb.Event_Summary
	vals []*tfpb.Summary_Value
	// scalars counts the Scalars events written.
	scalars int
	// createdDir: Create made the directory (CloseOrRemove removes it
	// again when it is left empty).
	createdDir bool
}

// Create starts a new event file in dir (created if needed), stamped with
// now, and writes its file_version record.
func Create(dir string, now time.Time) (*Writer, error) {
	_, statErr := os.Stat(dir)
	createdDir := os.IsNotExist(statErr)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the TensorBoard directory: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	host = strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(host)
	path := filepath.Join(dir, fmt.Sprintf("%s%d.%s", Prefix, now.Unix(), host))
	// Two files in one second (a quick resume): the next free name.
	for i := 1; ; i++ {
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			break
		}
		path = filepath.Join(dir, fmt.Sprintf("%s%d.%s.%d", Prefix, now.Unix(), host, i))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot create a TensorBoard event file: %w", err)
	}
	w := &Writer{f: f, w: bufio.NewWriterSize(f, 64<<10), path: path, createdDir: createdDir}
	first := &tfpb.Event{WallTime: wallTime(now), What: &tfpb.Event_FileVersion{FileVersion: FileVersion}}
	if err := w.write(first); err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

func wallTime(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Scalars appends one Event holding the values at step, stamped with now.
func (w *Writer) Scalars(step int64, now time.Time, values ...Scalar) error {
	for len(w.vals) < len(values) {
		w.vals = append(w.vals, &tfpb.Summary_Value{Value: &tfpb.Summary_Value_SimpleValue{}})
	}
	w.sum.Value = w.vals[:len(values)]
	for i, v := range values {
		w.vals[i].Tag = v.Tag
		w.vals[i].Value.(*tfpb.Summary_Value_SimpleValue).SimpleValue = float32(v.Value)
	}
	w.ev.WallTime, w.ev.Step = wallTime(now), step
	w.what.Summary = &w.sum
	w.ev.What = &w.what
	w.scalars++
	return w.write(&w.ev)
}

// write appends one record holding ev.
func (w *Writer) write(ev *tfpb.Event) error {
	var err error
	w.buf, err = proto.MarshalOptions{Deterministic: true}.MarshalAppend(w.buf[:0], ev)
	if err != nil {
		return fmt.Errorf("%s: cannot encode an event: %w", w.path, err)
	}
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(w.buf)))
	binary.LittleEndian.PutUint32(head[8:], MaskedCRC(head[:8]))
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], MaskedCRC(w.buf))
	w.w.Write(head[:])
	w.w.Write(w.buf)
	if _, err := w.w.Write(tail[:]); err != nil {
		return fmt.Errorf("cannot write %s: %w", w.path, err)
	}
	return nil
}

// Flush writes the buffered records to the file.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", w.path, err)
	}
	return nil
}

// CloseOrRemove closes the file, or removes it when no Scalars were
// written (a run that failed before its first measurement, or a resume
// with nothing left to train): TensorBoard would list it as an empty run.
func (w *Writer) CloseOrRemove() error {
	err := w.Close()
	if w.scalars == 0 {
		os.Remove(w.path)
		if w.createdDir {
			os.Remove(filepath.Dir(w.path)) // fails, harmlessly, unless empty
		}
	}
	return err
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	err := w.Flush()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot write %s: %w", w.path, cerr)
	}
	return err
}
