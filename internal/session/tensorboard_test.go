package session

import (
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// tbEvent is an event decoded by readEvents, independently of package
// tfevents and its generated messages: the wire format by hand with
// protowire, the field numbers of tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto.
type tbEvent struct {
	wallTime    float64
	step        int64
	fileVersion string
	values      map[string]float32
}

// mask is TensorFlow's record CRC masking, written out here again.
func mask(b []byte) uint32 {
	c := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// readEvents reads every record of a TensorBoard event file, checking
// both CRCs of each.
func readEvents(t *testing.T, path string) []tbEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []tbEvent
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			t.Fatalf("%s: %d bytes left at %d, short of a record header", path, len(b)-off, off)
		}
		n := binary.LittleEndian.Uint64(b[off:])
		if got := binary.LittleEndian.Uint32(b[off+8:]); got != mask(b[off:off+8]) {
			t.Fatalf("%s: record at %d: length CRC %08x, want %08x", path, off, got, mask(b[off:off+8]))
		}
		if uint64(len(b)-off-16) < n {
			t.Fatalf("%s: record at %d of %d bytes runs past the end", path, off, n)
		}
		data := b[off+12 : off+12+int(n)]
		if got := binary.LittleEndian.Uint32(b[off+12+int(n):]); got != mask(data) {
			t.Fatalf("%s: record at %d: data CRC %08x, want %08x", path, off, got, mask(data))
		}
		evs = append(evs, decodeEvent(t, data))
		off += 16 + int(n)
	}
	return evs
}

func decodeEvent(t *testing.T, b []byte) tbEvent {
	t.Helper()
	ev := tbEvent{values: map[string]float32{}}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.Fixed64Type: // double wall_time
			v, n := protowire.ConsumeFixed64(b)
			ev.wallTime, b = math.Float64frombits(v), b[n:]
		case num == 2 && typ == protowire.VarintType: // int64 step
			v, n := protowire.ConsumeVarint(b)
			ev.step, b = int64(v), b[n:]
		case num == 3 && typ == protowire.BytesType: // string file_version
			v, n := protowire.ConsumeBytes(b)
			ev.fileVersion, b = string(v), b[n:]
		case num == 5 && typ == protowire.BytesType: // Summary summary
			v, n := protowire.ConsumeBytes(b)
			decodeSummary(t, v, ev.values)
			b = b[n:]
		default:
			t.Fatalf("unexpected field %d (type %d) in an Event", num, typ)
		}
	}
	return ev
}

// decodeSummary reads Summary{repeated Value value = 1}, Value{string
// tag = 1; float simple_value = 2}.
func decodeSummary(t *testing.T, b []byte, into map[string]float32) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			t.Fatalf("unexpected field %d in a Summary", num)
		}
		v, m := protowire.ConsumeBytes(b[n:])
		b = b[n+m:]
		var tag string
		var val float32
		for len(v) > 0 {
			num, typ, n := protowire.ConsumeTag(v)
			v = v[n:]
			switch {
			case num == 1 && typ == protowire.BytesType:
				s, n := protowire.ConsumeBytes(v)
				tag, v = string(s), v[n:]
			case num == 2 && typ == protowire.Fixed32Type:
				x, n := protowire.ConsumeFixed32(v)
				val, v = math.Float32frombits(x), v[n:]
			default:
				t.Fatalf("unexpected field %d in a Summary.Value", num)
			}
		}
		into[tag] = val
	}
}

// TestTensorBoardEvents: training.tensorboard writes an event file whose
// records all pass their CRCs, starting with file_version brain.Event:2,
// with the training loss, learning rate and gradient norm of every step
// and, at each metrics row's step, the row's values (as float32).
func TestTensorBoardEvents(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	out := filepath.Join(dir, "run")
	cfg := loadConfig(t, dir, blobsConfig, "training.tensorboard=true", "training.eval_every_steps=4")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "events.out.tfevents.*"))
	if len(files) != 1 {
		t.Fatalf("want one event file, got %q", files)
	}
	evs := readEvents(t, files[0])
	if len(evs) == 0 || evs[0].fileVersion != "brain.Event:2" || evs[0].wallTime < 1e9 {
		t.Fatalf("the first record is not the file version: %+v", evs[:min(1, len(evs))])
	}
	steps := map[int64]bool{}
	rowsAt := map[int64]map[string]float32{}
	for _, e := range evs[1:] {
		if _, ok := e.values["train/loss"]; ok {
			if _, ok := e.values["train/lr"]; !ok || steps[e.step] {
				t.Errorf("step %d: %v (or a repeated step)", e.step, e.values)
			}
			steps[e.step] = true
		}
		if _, ok := e.values["epoch/train_loss"]; ok {
			rowsAt[e.step] = e.values
		}
	}
	if len(steps) != 30 || !steps[1] || !steps[30] {
		t.Errorf("training loss at %d steps, want steps 1 to 30", len(steps))
	}
	f, _ := os.Open(filepath.Join(out, "metrics.csv"))
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]string{"train_loss": "epoch/train_loss", "val_loss": "val/loss", "val_accuracy": "val/accuracy", "lr": "epoch/lr", "grad_norm": "epoch/grad_norm"}
	if len(recs)-1 != len(rowsAt) || len(rowsAt) < 9 {
		t.Fatalf("%d metrics rows, %d row events", len(recs)-1, len(rowsAt))
	}
	for _, r := range recs[1:] {
		step, _ := strconv.ParseInt(r[1], 10, 64)
		vals := rowsAt[step]
		for i, name := range recs[0] {
			tag, ok := cols[name]
			if !ok {
				continue
			}
			want, _ := strconv.ParseFloat(r[i], 64)
			if got, ok := vals[tag]; !ok || got != float32(want) {
				t.Errorf("step %d: %s is %v in the events, %v in metrics.csv", step, tag, got, float32(want))
			}
		}
	}
	if testing.Verbose() {
		fmt.Println(len(evs), "events")
	}
}
