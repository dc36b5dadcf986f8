package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestPodScriptsRunTheSweep runs the pods of the shipped example as the
// cluster would, one stage after the other: each Job's /bin/sh -c script,
// once per completion index with JOB_COMPLETION_INDEX set and the
// ConfigMap's data in the environment, with nettrain built from this
// repository on PATH. The volume's /work and the image's /configs become
// temporary and repository directories, and FLAGS a smaller budget (two
// optimizers, 50 steps). The merged report must equal a single-process
// run of the same sweep.
func TestPodScriptsRunTheSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small sweep (-short)")
	}
	docs, err := decodeDir(t, "../compare-optimizers")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "nettrain"), "./cmd/nettrain")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := filepath.Join(tmp, "work")
	os.MkdirAll(work, 0o755)
	const flags = "--optimizers sgd,adam --lr-grid 3 --seeds 2 --epochs 1 --steps 50 --evals-per-epoch 2"

	var env []string
	var jobs []*batchv1.Job
	for _, d := range docs {
		switch o := d.obj.(type) {
		case *corev1.ConfigMap:
			for k, v := range o.Data {
				v = strings.ReplaceAll(v, "/configs/", filepath.Join(repo, "configs")+"/")
				if k == "FLAGS" {
					v = flags
				}
				env = append(env, k+"="+v)
			}
		case *batchv1.Job:
			jobs = append(jobs, o)
		}
	}
	sort.Slice(jobs, func(i, j int) bool { return stageOrder(jobs[i]) < stageOrder(jobs[j]) })
	if len(jobs) != 3 || stageOrder(jobs[0]) != 0 || stageOrder(jobs[2]) != 2 {
		t.Fatalf("want the tune, final and report Jobs, got %d Jobs", len(jobs))
	}
	for _, job := range jobs {
		n := int32(1)
		if job.Spec.Completions != nil {
			n = *job.Spec.Completions
		}
		c := job.Spec.Template.Spec.Containers[0]
		script := strings.ReplaceAll(c.Args[0], "/work", work)
		for i := range n {
			cmd := exec.Command(c.Command[0], append(c.Command[1:], script)...)
			cmd.Env = append(append(os.Environ(), env...), "PATH="+bin+":"+os.Getenv("PATH"), fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("Job %s, pod %d: %v\n%s", job.Name, i, err, out)
			}
		}
	}
	var config string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "CONFIG="); ok {
			config = v
		}
	}
	single := exec.Command(filepath.Join(bin, "nettrain"), append([]string{"compare-optimizers", config, "--out", filepath.Join(tmp, "single"), "--workers", "2"}, strings.Fields(flags)...)...)
	if out, err := single.CombinedOutput(); err != nil {
		t.Fatalf("single-process run: %v\n%s", err, out)
	}
	a, b := trialsWithoutWall(t, filepath.Join(tmp, "single/trials.csv")), trialsWithoutWall(t, filepath.Join(work, "report/trials.csv"))
	if a != b {
		t.Errorf("the pods' report differs from the single-process run:\n%s\n---\n%s", b, a)
	}
	if rows := strings.Count(b, "\n"); rows != 10 { // 6 tuning runs, 4 final runs
		t.Errorf("the report has %d trials, want 10:\n%s", rows, b)
	}
	for _, f := range []string{"summary.md", "curves.png", "lr-sensitivity.svg"} {
		a, _ := os.ReadFile(filepath.Join(tmp, "single", f))
		b, err := os.ReadFile(filepath.Join(work, "report", f))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("report/%s differs from the single-process run's (%v)", f, err)
		}
	}
}

// stageOrder orders the Jobs by their stage label: tune, final, report.
func stageOrder(j *batchv1.Job) int {
	return map[string]int{"tune": 0, "final": 1, "report": 2}[j.Labels["stage"]]
}

func decodeDir(t *testing.T, dir string) ([]doc, error) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var docs []doc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ds, err := DecodeStrict(f, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		docs = append(docs, ds...)
	}
	return docs, nil
}

// trialsWithoutWall reads trials.csv without its wall_s column.
func trialsWithoutWall(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		if len(f) != 12 {
			t.Fatalf("%s: %d columns, want 12: %s", path, len(f), line)
		}
		rows = append(rows, strings.Join(append(f[:10:10], f[11:]...), ","))
	}
	return strings.Join(rows, "\n")
}
