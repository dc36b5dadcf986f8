package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/testutil"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// zeroBomb returns a gzip stream (one member) of prefix followed by zeros
// zero bytes: 100 MB of zeros compress to about 127 KB.
func zeroBomb(t testing.TB, prefix []byte, zeros int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(prefix); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for zeros > 0 {
		n := min(zeros, len(chunk))
		if _, err := w.Write(chunk[:n]); err != nil {
			t.Fatal(err)
		}
		zeros -= n
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIDXGzipBomb checks that a gzipped IDX file is checked against the
// limit on what its header claims before its data is inflated, and that
// inflating stops at the claimed size plus maxTrailing+1 bytes, whatever
// follows.
func TestIDXGzipBomb(t *testing.T) {
	const mb100 = 100_000_000
	small := idxBytes(0x08, []uint32{1000}, noise(1000))
	tests := []struct {
		name string
		in   []byte
		lim  limit
		want string // "" = success; else the message after "bomb.gz: "
	}{
		{"100 MB claimed, 64 MiB allowed", zeroBomb(t, idxBytes(0x08, []uint32{mb100}, nil), mb100), limit{64 << 20, "training.memory_limit 64MiB"},
			"the data (dimensions [100000000] of 0x08 unsigned byte) needs 95.4 MiB of memory, more than training.memory_limit 64MiB (64.0 MiB) allows"},
		{"float32 values count 4 bytes each", zeroBomb(t, idxBytes(0x0D, []uint32{1 << 20}, nil), 4<<20), limit{4<<20 - 1, ""},
			"the data (dimensions [1048576] of 0x0D float) needs 4194304 bytes of memory, more than the limit (4194303 bytes) allows"},
		{"signed bytes count 4 bytes each", zeroBomb(t, idxBytes(0x09, []uint32{1 << 20}, nil), 1<<20), limit{4<<20 - 1, ""},
			"the data (dimensions [1048576] of 0x09 signed byte) needs 4194304 bytes of memory, more than the limit (4194303 bytes) allows"},
		{"exactly the limit", zeroBomb(t, idxBytes(0x08, []uint32{1 << 20}, nil), 1<<20), limit{1 << 20, ""}, ""},
		{"no limit", zeroBomb(t, idxBytes(0x08, []uint32{1 << 20}, nil), 1<<20), limit{}, ""},
		{"100 MB of zeros after the data", zeroBomb(t, small, mb100), limit{},
			"more than 1024 bytes of trailing garbage (after gunzip): dimensions [1000] of 0x08 unsigned byte (1 bytes each) need 1000 bytes of data after the 8-byte header, but more than 2024 follow"},
		{"a second gzip member of 100 MB of zeros", append(gz(t, small), zeroBomb(t, nil, mb100)...), limit{},
			"more than 1024 bytes of trailing garbage (after gunzip): dimensions [1000] of 0x08 unsigned byte (1 bytes each) need 1000 bytes of data after the 8-byte header, but more than 2024 follow"},
		{"1024 bytes of trailing zeros are counted", zeroBomb(t, small, 1024), limit{},
			"1024 bytes of trailing garbage (after gunzip): dimensions [1000] of 0x08 unsigned byte (1 bytes each) need 1000 bytes of data after the 8-byte header, but 2024 follow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The header is read and checked first; what the body read
			// inflates is counted after the gzip reader.
			src := &countingReader{r: bytes.NewReader(tt.in)}
			before := totalAlloc()
			s, err := newIDXStream("bomb.gz", src, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			err = tt.lim.check("bomb.gz", "the data ("+s.describe()+")", s.memBytes())
			var inflated *countingReader
			if err == nil {
				inflated = &countingReader{r: s.r}
				s.r = inflated
				_, err = s.read()
			}
			allocated := totalAlloc() - before
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := "bomb.gz: " + tt.want; err == nil || err.Error() != want {
				t.Fatalf("error:\n  %v\nwant\n  %s", err, want)
			}
			if inflated == nil { // refused on the header: nothing of the body inflated
				if src.n > 8<<10 || allocated > 1<<20 {
					t.Errorf("refused after reading %d compressed bytes and allocating %d bytes", src.n, allocated)
				}
				return
			}
			if limit := s.want + maxTrailing + 1; inflated.n > limit {
				t.Errorf("inflated %d bytes after the header; the header claims %d, so at most %d should be read", inflated.n, s.want, limit)
			}
			if src.n > 16<<10 {
				t.Errorf("read %d of the %d compressed bytes", src.n, len(tt.in))
			}
		})
	}

	// Load refuses the same bomb, given as a file, with the labels.
	dir := t.TempDir()
	images := writeFile(t, dir, "bomb-images-idx3-ubyte.gz", zeroBomb(t, idxBytes(0x08, []uint32{100_000, 1000}, nil), mb100))
	writeFile(t, dir, "bomb-labels-idx1-ubyte.gz", zeroBomb(t, idxBytes(0x08, []uint32{100_000}, nil), 100_000))
	before := totalAlloc()
	_, err := Load(images, LoadOptions{MaxBytes: 64 << 20, LimitName: "training.memory_limit 64MiB"})
	if allocated := totalAlloc() - before; allocated > 1<<20 {
		t.Errorf("Load allocated %d bytes before refusing", allocated)
	}
	want := images + ": the data set (dimensions [100000 1000] of 0x08 unsigned byte and 100000 labels) needs 95.8 MiB of memory, more than training.memory_limit 64MiB (64.0 MiB) allows"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n  %v\nwant\n  %s", err, want)
	}
	var te *safeio.TooLargeError
	if !errors.As(err, &te) || te.Size != 100_000*1000+5*100_000 || te.Limit != 64<<20 {
		t.Errorf("error %#v, want a *safeio.TooLargeError with the size and the limit", err)
	}
}

// TestLoadLimit checks LoadOptions.MaxBytes for every format: a data set
// that needs more is refused, before it is read where its header or size
// says so, with a message naming the file, the size and the limit.
func TestLoadLimit(t *testing.T) {
	base := t.TempDir()
	// 100 rows of 3 features and a class: 100 * (3*4 + 2*4) = 2000 bytes,
	// and the 3 bytes of the labels' texts.
	var rows strings.Builder
	rows.WriteString("a,b,c,y\n")
	for i := range 100 {
		rows.WriteString(strings.Repeat("1,", 3) + string(rune('0'+i%3)) + "\n")
	}
	writeFile(t, base, "d.csv", []byte(rows.String()))
	writeFile(t, base, "raw/train-images-idx3-ubyte", tinyImages) // 12 bytes, 3 labels: 27
	writeFile(t, base, "raw/train-labels-idx1-ubyte", tinyLabels)
	writeFile(t, base, "float/train-images-idx3-ubyte.gz", gz(t, idxBytes(0x0D, []uint32{3, 2}, make([]byte, 24)))) // 24 + 15 = 39
	writeFile(t, base, "float/train-labels-idx1-ubyte.gz", gz(t, tinyLabels))
	// x F16 (100, 10): 2000 bytes in the file, 4000 as float32; y I64
	// (100): 800 bytes, 400 as int32: 7200 in all. The file is those 2800
	// bytes and a header.
	st := filepath.Join(base, "d.safetensors")
	if err := safetensors.Write(st, []safetensors.Tensor{
		{Name: "x", DType: safetensors.F16, Shape: []int{100, 10}, Data: make([]uint16, 1000)},
		{Name: "y", Shape: []int{100}, Data: make([]int64, 100)},
	}, nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(st)
	if err != nil {
		t.Fatal(err)
	}
	stSize := fi.Size()
	mnistRoot := t.TempDir()
	tinySet(t, filepath.Join(mnistRoot, "mnist"))
	w := &fakeWorld{env: map[string]string{"NETTRAIN_DATA": mnistRoot}}

	tests := []struct {
		spec string
		max  int64
		want string // "" = success; BASE stands for the base directory
	}{
		{"d.csv", 2003, ""},
		{"d.csv", 2002, "BASE/d.csv:101: the data read up to this line needs 2003 bytes of memory, more than the test limit (2002 bytes) allows"},
		{"d.csv", 100, "BASE/d.csv:6: the data read up to this line needs 103 B of memory, more than the test limit (100 B) allows"},
		{"raw/train-images-idx3-ubyte", 27, ""},
		{"raw/train-images-idx3-ubyte", 26, "BASE/raw/train-images-idx3-ubyte: the data set (dimensions [3 2 2] of 0x08 unsigned byte and 3 labels) needs 27 B of memory, more than the test limit (26 B) allows"},
		{"float/train-images-idx3-ubyte.gz", 39, ""},
		{"float/train-images-idx3-ubyte.gz", 38, "BASE/float/train-images-idx3-ubyte.gz: the data set (dimensions [3 2] of 0x0D float and 3 labels) needs 39 B of memory, more than the test limit (38 B) allows"},
		{"mnist:train", 27, ""},
		{"mnist:train", 26, "MNIST/mnist/train-images-idx3-ubyte.gz: the data set (dimensions [3 2 2] of 0x08 unsigned byte and 3 labels) needs 27 B of memory, more than the test limit (26 B) allows"},
		{"d.safetensors", 7200, ""},
		{"d.safetensors", 7199, "BASE/d.safetensors: the data set (x F16 [100 10] and y I64 [100], held as read and as converted) needs 7200 bytes of memory, more than the test limit (7199 bytes) allows"},
		{"d.safetensors", stSize - 1, fmt.Sprintf("BASE/d.safetensors is %d bytes, more than the test limit (%d bytes) allows", stSize, stSize-1)},
		{"d.csv", -1, "d.csv: byte limit -1 is negative (0 means no limit)"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.spec, tt.max), func(t *testing.T) {
			_, err := Load(tt.spec, LoadOptions{BaseDir: base, Locator: w.locator(""), MaxBytes: tt.max, LimitName: "the test limit"})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := strings.NewReplacer("BASE", base, "MNIST", mnistRoot).Replace(tt.want)
			if err == nil || err.Error() != want {
				t.Fatalf("error:\n  %v\nwant\n  %s", err, want)
			}
			var te *safeio.TooLargeError
			if tt.max > 0 && !errors.As(err, &te) {
				t.Errorf("want a *safeio.TooLargeError, got %T", err)
			}
		})
	}
}

// TestCSVRowLimit checks that with a limit one row's text is bounded too,
// so that a quote left open cannot make the reader hold the rest of the
// file as one field: the row is refused after reading about the limit,
// at the line (and column) where it, or its open quoted field, starts.
func TestCSVRowLimit(t *testing.T) {
	const max = 64 << 10
	longRow := strings.Repeat("1,", 1<<16) + "1\n" // 128 KiB
	tests := []struct {
		name, in string
		want     string
	}{
		{"quote left open", "a,b\n1,2\n3,\"4" + strings.Repeat("x\n", 1<<20),
			"d.csv:3:3: the quoted field that starts here runs on for more than the test limit (64.0 KiB) allows; is its closing quote missing?"},
		{"quote left open after spaces, CRLF", "a,b\r\n1,2\r\n3,  \"4" + strings.Repeat("x\r\n", 1<<19),
			"d.csv:3:5: the quoted field that starts here runs on for more than the test limit (64.0 KiB) allows; is its closing quote missing?"},
		{"long row", "a,b\n1,2\n" + longRow, "d.csv:3: the row that starts on this line is longer than the test limit (64.0 KiB) allows"},
		{"long row after blank lines", "a,b\n1,2\n\n\r\n" + longRow, "d.csv:5: the row that starts on this line is longer than the test limit (64.0 KiB) allows"},
		{"long row after a row on two lines", "a,b\n1,\"x\ny\"\n" + longRow, "d.csv:4: the row that starts on this line is longer than the test limit (64.0 KiB) allows"},
		{"long first row", longRow, "d.csv:1: the row that starts on this line is longer than the test limit (64.0 KiB) allows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingReader{r: strings.NewReader(tt.in)}
			_, err := parseCSV("d.csv", src, CSVOptions{}, limit{max, "the test limit"})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n  %v\nwant\n  %s", err, tt.want)
			}
			if src.n > max+3*4096 {
				t.Errorf("read %d bytes of %d; the limit is %d", src.n, len(tt.in), max)
			}
		})
	}
	// The same rows in a series file.
	_, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader("a,b\n1,2\n3,\"4"+strings.Repeat("x\n", 1<<20)),
		seqOpts(SeqSeries, 1, func(o *SeqOptions) { o.MaxBytes, o.LimitName = max, "the test limit" }))
	if want := "s.csv:3:3: the quoted field that starts here runs on for more than the test limit (64.0 KiB) allows; is its closing quote missing?"; err == nil || err.Error() != want {
		t.Errorf("series error:\n  %v\nwant\n  %s", err, want)
	}
}

// TestSequenceLimit checks SeqOptions.MaxBytes for texts and series.
func TestSequenceLimit(t *testing.T) {
	dir := t.TempDir()
	text := writeFile(t, dir, "t.txt", []byte(strings.Repeat("abcdefghij", 100)))
	var series strings.Builder
	series.WriteString("note,a,b\n")
	for i := range 100 {
		series.WriteString(strings.Repeat("z", 300) + "," + strconv.Itoa(i) + ",1\n") // 30 KB of notes, never stored
	}
	csvPath := writeFile(t, dir, "s.csv", []byte(series.String()))
	limited := func(max int64, change func(*SeqOptions)) func(*SeqOptions) {
		return func(o *SeqOptions) {
			o.MaxBytes, o.LimitName = max, "the test limit"
			o.Inputs = []string{"a", "b"}
			if change != nil {
				change(o)
			}
		}
	}
	tests := []struct {
		name string
		path string
		opts SeqOptions
		want string // "" = success; DIR stands for the directory
	}{
		{"text within the limit", text, seqOpts(SeqText, 2, limited(3000, nil)), ""},
		{"text file over the limit", text, seqOpts(SeqText, 2, limited(999, nil)), "DIR/t.txt is 1000 B, more than the test limit (999 B) allows"},
		{"text and token ids over the limit", text, seqOpts(SeqText, 2, limited(2999, nil)),
			"DIR/t.txt: the text and its token ids (2 bytes per character) needs 3000 bytes of memory, more than the test limit (2999 bytes) allows"},
		// 100 rows of 2 stored values: 800 bytes; the notes are not stored,
		// and each row is shorter than the limit.
		{"series within the limit", csvPath, seqOpts(SeqSeries, 2, limited(800, nil)), ""},
		{"series row longer than the limit", csvPath, seqOpts(SeqSeries, 2, limited(300, nil)),
			"DIR/s.csv:2: the row that starts on this line is longer than the test limit (300 B) allows"},
		{"series over the limit", csvPath, seqOpts(SeqSeries, 2, limited(399, nil)),
			"DIR/s.csv:51: the series read up to this line needs 400 B of memory, more than the test limit (399 B) allows"},
		{"differenced series within the limit", csvPath, seqOpts(SeqSeries, 2, limited(1600, func(o *SeqOptions) { o.Difference = true })), ""},
		{"differenced series over the limit", csvPath, seqOpts(SeqSeries, 2, limited(1599, func(o *SeqOptions) { o.Difference = true })),
			"DIR/s.csv: the differenced series, with its levels, needs 1600 bytes of memory, more than the test limit (1599 bytes) allows"},
		{"negative", text, seqOpts(SeqText, 2, limited(-1, nil)), "DIR/t.txt: byte limit -1 is negative (0 means no limit)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Kind == SeqText {
				tt.opts.Inputs = nil
			}
			_, _, _, err := LoadSequence(tt.path, tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := strings.ReplaceAll(tt.want, "DIR", dir)
			if err == nil || err.Error() != want {
				t.Fatalf("error:\n  %v\nwant\n  %s", err, want)
			}
			// A size over the limit is a *safeio.TooLargeError; a row
			// longer than the limit is not (its size is not known).
			var te *safeio.TooLargeError
			if tt.opts.MaxBytes > 0 && !strings.Contains(want, "the row that starts") && !errors.As(err, &te) {
				t.Errorf("want a *safeio.TooLargeError, got %T", err)
			}
		})
	}
}

// TestCSVRowCap: every CSV reader (a training or evaluation set, a
// series, predict's streamed inputs) refuses a row longer than MaxCSVRow
// even when the caller's limit is larger or none, having read about that
// much: a 1 GB line once took 4.5 GB to refuse, and a training set's
// 400 MB line under training.memory_limit crashed out of memory.
func TestCSVRowCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("a,b\n1,2\n")
	chunk := []byte(strings.Repeat("1", 1<<20)) // 1 MiB of one field
	for range MaxCSVRow/len(chunk) + 2 {
		f.Write(chunk)
	}
	f.WriteString(",1\n")
	f.Close()
	stream := func(lim int64) func() error {
		return func() error {
			s, err := OpenCSVStream(path, CSVOptions{Features: []string{"a"}}, lim, "the memory limit")
			if err != nil {
				return err
			}
			defer s.Close()
			for {
				if _, _, err := s.Next(100); err != nil {
					return err
				}
			}
		}
	}
	tests := []struct {
		name string
		read func() error
	}{
		{"stream, no limit", stream(0)},
		{"stream, a limit larger than the cap", stream(1 << 40)},
		{"ReadCSV", func() error { _, err := ReadCSV(path, CSVOptions{}); return err }},
		{"Load, no limit", func() error { _, err := Load(path, LoadOptions{}); return err }},
		{"Load, a limit larger than the cap", func() error {
			_, err := Load(path, LoadOptions{MaxBytes: 1 << 40, LimitName: "the memory limit"})
			return err
		}},
		{"series, a limit larger than the cap", func() error {
			_, _, _, err := LoadSequence(path, seqOpts(SeqSeries, 1, func(o *SeqOptions) {
				o.Inputs, o.MaxBytes, o.LimitName = []string{"b"}, 1<<40, "the memory limit"
			}))
			return err
		}},
	}
	want := path + ":3: the row that starts on this line is longer than nettrain's limit on one row of a CSV (16.0 MiB) allows"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			// Reading the row whole held several copies of it: stop a
			// reader that still does before it grows much further.
			testutil.Bounded(t, 30*time.Second, 8*MaxCSVRow, func() { err = tt.read() })
			if err == nil || err.Error() != want {
				t.Errorf("error\n  %v\nwant\n  %s", err, want)
			}
		})
	}
}
