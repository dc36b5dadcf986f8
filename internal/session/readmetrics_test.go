package session

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func metricsLine(step int, loss float64) string {
	return fmt.Sprintf(`{"epoch":1,"step":%d,"train_loss":%g,"val_loss":null,"val_accuracy":null,"val_mae":null,"lr":0.1,"grad_norm":1,"samples_per_s":10,"elapsed_s":1}`+"\n", step, loss)
}

// TestMetricsFollower: after each change to a metrics.jsonl, what the
// follower reads equals a fresh ReadMetrics of the file, rows and error:
// lines appended, a line half written and then completed, the file
// rewritten (same length or shorter), a bad line and its repair.
func TestMetricsFollower(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	l1, l2, l3 := metricsLine(1, 0.9), metricsLine(2, 0.8), metricsLine(3, 0.7)
	half := l3[:len(l3)/2]
	steps := []struct {
		name, content string
		rows          int
		bad           bool
	}{
		{"two lines", l1 + l2, 2, false},
		{"unchanged", l1 + l2, 2, false},
		{"a line half written", l1 + l2 + half, 2, false},
		{"the line completed", l1 + l2 + l3, 3, false},
		{"rewritten, same length", metricsLine(1, 0.6) + metricsLine(2, 0.5) + metricsLine(3, 0.4), 3, false},
		{"rewritten shorter", metricsLine(1, 0.3), 1, false},
		{"a bad line appended", metricsLine(1, 0.3) + "{oops\n", 1, true},
		{"a row after the bad line", metricsLine(1, 0.3) + "{oops\n" + l2, 1, true},
		{"the bad line repaired", metricsLine(1, 0.3) + l2 + l3, 3, false},
		{"emptied", "", 0, false},
		{"started again", l1, 1, false},
	}
	m := MetricsFollower{Path: path}
	for _, st := range steps {
		if err := os.WriteFile(path, []byte(st.content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, gotErr := m.Read()
		want, wantErr := BoardMetrics(path)
		if len(got) != st.rows || (gotErr != nil) != st.bad {
			t.Errorf("%s: %d rows, error %v; want %d rows, error %v", st.name, len(got), gotErr, st.rows, st.bad)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%s: the follower read %v, %v; a fresh read %v, %v", st.name, got, gotErr, want, wantErr)
		}
	}
}

// TestMetricsFollowerReadsOnlyNewLines: a follower parses only what was
// appended since its last read. The file's first line is made unreadable
// in place (same length, last line untouched), which a fresh read reports
// and the follower, which does not read that line again, does not.
func TestMetricsFollowerReadsOnlyNewLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	l1, l2 := metricsLine(1, 0.9), metricsLine(2, 0.8)
	os.WriteFile(path, []byte(l1+l2), 0o644)
	m := MetricsFollower{Path: path}
	first, err := m.Read()
	if err != nil || len(first) != 2 {
		t.Fatalf("%d rows, %v", len(first), err)
	}
	broken := strings.Repeat("x", len(l1)-1) + "\n"
	os.WriteFile(path, []byte(broken+l2+metricsLine(3, 0.7)), 0o644)
	got, err := m.Read()
	if err != nil || len(got) != 3 || !reflect.DeepEqual(got[:2], first) || got[2].Step != 3 {
		t.Errorf("after a line was appended: %d rows, %v", len(got), err)
	}
	if _, err := BoardMetrics(path); err == nil {
		t.Error("a fresh read of the changed file found no bad line: the test proves nothing")
	}
}

// TestBoardMetricsBounded: a line without epoch or step is no row (a
// file of "{}" lines took the board to gigabytes), and the board reads at
// most MaxBoardRows rows of a run, which a resume still reads whole.
func TestBoardMetricsBounded(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, []byte(strings.Repeat("{}\n", 1000)), 0o644)
	for name, read := range map[string]func(string) ([]Row, error){"ReadMetrics": ReadMetrics, "BoardMetrics": BoardMetrics} {
		if _, err := read(empty); err == nil || !strings.Contains(err.Error(), "empty.jsonl:1: not a metrics row: no epoch or step") {
			t.Errorf("%s of {} lines: %v", name, err)
		}
	}
	many := filepath.Join(dir, "many.jsonl")
	os.WriteFile(many, []byte(strings.Repeat(`{"epoch":1,"step":1}`+"\n", MaxBoardRows+1)), 0o644)
	if rows, err := ReadMetrics(many); err != nil || len(rows) != MaxBoardRows+1 {
		t.Errorf("ReadMetrics: %d rows, %v", len(rows), err)
	}
	want := fmt.Sprintf("many.jsonl:%d: more than %d rows, more than the board shows of a run", MaxBoardRows+1, MaxBoardRows)
	if _, err := BoardMetrics(many); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("BoardMetrics: %v, want %q", err, want)
	}
	f := MetricsFollower{Path: many}
	if rows, err := f.Read(); err == nil || !strings.Contains(err.Error(), want) || len(rows) > MaxBoardRows {
		t.Errorf("MetricsFollower: %d rows, %v, want %q", len(rows), err, want)
	}
}
