package safeio

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestBatch: files written through a Batch replace their old versions
// together. A write that fails leaves every old file and no temporary; a
// rename that fails after the first leaves no old file beside the new
// ones, and says which it removed.
func TestBatch(t *testing.T) {
	names := []string{"a.csv", "b.md", "c.png"}
	tests := []struct {
		name      string
		failWrite string            // this file's write fails (disk full)
		failMove  string            // this file's rename fails
		want      map[string]string // the files after, by the start of their content
		wantErr   string            // DIR stands for the directory, TMP for the failed temporary
		placed    int
	}{
		{name: "all written", want: map[string]string{"a.csv": "new a.csv", "b.md": "new b.md", "c.png": "new c.png"}, placed: 3},
		{name: "a write fails", failWrite: "b.md",
			want:    map[string]string{"a.csv": "old a.csv", "b.md": "old b.md", "c.png": "old c.png"},
			wantErr: "cannot write DIR/b.md: writing temporary file TMP: no space left on device (the disk is full)"},
		{name: "the first rename fails", failMove: "a.csv",
			want:    map[string]string{"a.csv": "old a.csv", "b.md": "old b.md", "c.png": "old c.png"},
			wantErr: "cannot write DIR/a.csv: renaming TMP over it: input/output error"},
		{name: "a later rename fails", failMove: "b.md", placed: 1,
			want:    map[string]string{"a.csv": "new a.csv"},
			wantErr: "cannot write DIR/b.md: renaming TMP over it: input/output error; the old DIR/b.md and DIR/c.png were removed, so that none is left beside the new files already in place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range names {
				if err := os.WriteFile(filepath.Join(dir, n), []byte("old "+n), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var failedTmp string
			fsys := osFS
			fsys.createTemp = func(dir, pattern string) (tempFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				if err != nil {
					return nil, err
				}
				if tt.failWrite != "" && strings.HasPrefix(filepath.Base(f.Name()), "."+tt.failWrite+".tmp") {
					failedTmp = f.Name()
					return &failFile{File: f, writeErr: syscall.ENOSPC}, nil
				}
				return f, nil
			}
			fsys.rename = func(o, n string) error {
				if filepath.Base(n) == tt.failMove {
					failedTmp = o
					return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.EIO}
				}
				return os.Rename(o, n)
			}
			b := &Batch{fsys: &fsys}
			err := func() error {
				for _, n := range names {
					if err := b.WriteFile(filepath.Join(dir, n), []byte("new "+n+", more than the 20 bytes a failing disk accepts")); err != nil {
						b.Discard()
						return err
					}
				}
				return b.Commit()
			}()
			wantErr := strings.NewReplacer("DIR", dir, "TMP", failedTmp).Replace(tt.wantErr)
			if (err == nil) != (wantErr == "") || err != nil && err.Error() != wantErr {
				t.Errorf("error %v\nwant %s", err, wantErr)
			}
			if b.Placed() != tt.placed {
				t.Errorf("placed %d, want %d", b.Placed(), tt.placed)
			}
			var got []string
			for _, n := range leftovers(t, dir) {
				c, _ := os.ReadFile(filepath.Join(dir, n))
				if !strings.HasPrefix(string(c), tt.want[n]) {
					t.Errorf("%s holds %q, want %q", n, c, tt.want[n])
				}
				got = append(got, n)
			}
			var want []string
			for n := range tt.want {
				want = append(want, n)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("files %v, want %v", got, want)
			}
		})
	}
}
