package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestPodScriptsRunTheComparison runs the pods of the compare-optimizers
// example as the cluster would (see runPods), with FLAGS a smaller budget
// (two optimizers, 50 steps). The merged report must equal a
// single-process run of the same comparison.
func TestPodScriptsRunTheComparison(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small comparison (-short)")
	}
	const flags = "--optimizers sgd,adam --lr-grid 3 --seeds 2 --epochs 1 --steps 50 --evals-per-epoch 2"
	r := runPods(t, "../compare-optimizers", []string{"tune", "final", "report"}, func(string) string { return flags })
	r.single(t, append([]string{"compare-optimizers", r.config}, strings.Fields(flags)...))
	r.sameReport(t, 10, "summary.md", "curves.png", "lr-sensitivity.svg") // 6 tuning runs, 4 final runs
}

// TestPodScriptsRunTheGeneralSweep runs the pods of the sweep example as
// the cluster would (see runPods), with the ConfigMap's FLAGS (its grid
// and seeds) and a smaller budget after them (30 steps). The merged report
// must equal a single-process sweep with the same flags.
func TestPodScriptsRunTheGeneralSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small sweep (-short)")
	}
	var flags string
	r := runPods(t, "../sweep", []string{"sweep", "report"}, func(shipped string) string {
		flags = shipped + " --epochs 1 --steps 30 --evals-per-epoch 10"
		return flags
	})
	r.single(t, append([]string{"sweep", r.config}, strings.Fields(flags)...))
	// 3 rates x 2 batch sizes x 2 seeds, as the ConfigMap says.
	r.sameReport(t, 12, "summary.md", "summary.json", "curves.png", "curves.svg")
}

// podRun is one run of an example's pods: nettrain in bin, the volume's
// /work in work, the ConfigMap's CONFIG in config; singleOut is where the
// single-process run writes.
type podRun struct {
	bin, work, singleOut, config string
}

// runPods runs the pods of the example in dir as the cluster would, one
// stage after the other (the Jobs' stage labels must be stages, in this
// order): each Job's /bin/sh -c script, once per completion index with
// JOB_COMPLETION_INDEX set and the ConfigMap's data in the environment,
// with nettrain built from this repository on PATH. The volume's /work and
// the image's /configs become temporary and repository directories, and
// FLAGS becomes flags(the ConfigMap's FLAGS).
func runPods(t *testing.T, dir string, stages []string, flags func(string) string) podRun {
	t.Helper()
	r, env, jobs := setupPods(t, dir, flags)
	order := func(j *batchv1.Job) int { return slices.Index(stages, j.Labels["stage"]) }
	sort.Slice(jobs, func(i, j int) bool { return order(jobs[i]) < order(jobs[j]) })
	var got []string
	for _, j := range jobs {
		got = append(got, j.Labels["stage"])
	}
	if !slices.Equal(got, stages) {
		t.Fatalf("%s: want one Job per stage %v, got stages %v", dir, stages, got)
	}
	for _, job := range jobs {
		n := int32(1)
		if job.Spec.Completions != nil {
			n = *job.Spec.Completions
		}
		for i := range n {
			if out, err := r.pod(env, job, int(i)).CombinedOutput(); err != nil {
				t.Fatalf("Job %s, pod %d: %v\n%s", job.Name, i, err, out)
			}
		}
	}
	return r
}

// setupPods builds nettrain and reads the example in dir: the pods'
// environment (the ConfigMap's data, FLAGS becoming flags(FLAGS)) and its
// Jobs, in file order.
func setupPods(t *testing.T, dir string, flags func(string) string) (podRun, []string, []*batchv1.Job) {
	t.Helper()
	docs, err := decodeDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	r := podRun{bin: filepath.Join(tmp, "bin"), work: filepath.Join(tmp, "work"), singleOut: filepath.Join(tmp, "single")}
	build := exec.Command("go", "build", "-o", filepath.Join(r.bin, "nettrain"), "./cmd/nettrain")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	os.MkdirAll(r.work, 0o755)

	var env []string
	var jobs []*batchv1.Job
	for _, d := range docs {
		switch o := d.obj.(type) {
		case *corev1.ConfigMap:
			for k, v := range o.Data {
				v = strings.ReplaceAll(v, "/configs/", filepath.Join(repo, "configs")+"/")
				switch k {
				case "FLAGS":
					v = flags(v)
				case "CONFIG":
					r.config = v
				}
				env = append(env, k+"="+v)
			}
		case *batchv1.Job:
			jobs = append(jobs, o)
		}
	}
	return r, env, jobs
}

// pod is the command of pod i of job: its /bin/sh -c script with /work
// the run's work directory, JOB_COMPLETION_INDEX i and env.
func (r podRun) pod(env []string, job *batchv1.Job, i int) *exec.Cmd {
	c := job.Spec.Template.Spec.Containers[0]
	script := strings.ReplaceAll(c.Args[0], "/work", r.work)
	cmd := exec.Command(c.Command[0], append(c.Command[1:], script)...)
	cmd.Env = append(append(os.Environ(), env...), "PATH="+r.bin+":"+os.Getenv("PATH"), fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
	return cmd
}

// TestBadFlagsFailTheJob runs the first pod of each example's first Job
// with a mistake in FLAGS that only the config reveals: the pod must stop
// before writing anything, print the line that names the mistake, and
// exit with a code on which the Job's podFailurePolicy fails the whole
// Job (without it, every shard would be retried backoffLimitPerIndex
// times, each failing the same way).
func TestBadFlagsFailTheJob(t *testing.T) {
	for _, tc := range []struct {
		dir, stage, bad, want string
	}{
		{"../compare-optimizers", "tune", " --optimizers sgd,adamm", "adamm"},
		{"../sweep", "sweep", " --grid optimizer.lrr=0.1,0.2", "lrr"},
	} {
		t.Run(filepath.Base(tc.dir), func(t *testing.T) {
			r, env, jobs := setupPods(t, tc.dir, func(shipped string) string { return shipped + tc.bad })
			i := slices.IndexFunc(jobs, func(j *batchv1.Job) bool { return j.Labels["stage"] == tc.stage })
			if i < 0 {
				t.Fatalf("%s: no Job of stage %s", tc.dir, tc.stage)
			}
			job := jobs[i]
			out, err := r.pod(env, job, 0).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("pod 0 of %s with FLAGS ...%s: want a failure, got %v\n%s", job.Name, tc.bad, err, out)
			}
			if !strings.Contains(string(out), tc.want) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
				t.Errorf("pod 0 of %s: want one line naming %q, got\n%s", job.Name, tc.want, out)
			}
			if left, _ := os.ReadDir(r.work); len(left) > 0 {
				t.Errorf("pod 0 of %s wrote %s before stopping", job.Name, left[0].Name())
			}
			code := int32(ee.ExitCode())
			if a := exitAction(job, code); a != batchv1.PodFailurePolicyActionFailJob {
				t.Errorf("Job %s: its pod exits %d on a bad config or FLAGS, on which its podFailurePolicy's action is %q, not FailJob", job.Name, code, a)
			}
			// Any other failure (a crash, the memory limit) is retried.
			for _, other := range []int32{1, 2, 70, 137} {
				if a := exitAction(job, other); a == batchv1.PodFailurePolicyActionFailJob {
					t.Errorf("Job %s: exit code %d fails the whole Job", job.Name, other)
				}
			}
		})
	}
}

// single runs nettrain ARGS... --out r.singleOut --workers 2 in one process.
func (r podRun) single(t *testing.T, args []string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(r.bin, "nettrain"), append(args, "--out", r.singleOut, "--workers", "2")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("single-process run: %v\n%s", err, out)
	}
}

// sameReport checks the pods' report (/work/report) against the
// single-process run: trials.csv row for row without the wall seconds,
// with rows trials, and files byte for byte.
func (r podRun) sameReport(t *testing.T, rows int, files ...string) {
	t.Helper()
	a, b := trialsWithoutWall(t, filepath.Join(r.singleOut, "trials.csv")), trialsWithoutWall(t, filepath.Join(r.work, "report/trials.csv"))
	if a != b {
		t.Errorf("the pods' report differs from the single-process run:\n%s\n---\n%s", b, a)
	}
	if n := strings.Count(b, "\n"); n != rows {
		t.Errorf("the report has %d trials, want %d:\n%s", n, rows, b)
	}
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(r.singleOut, f))
		b, err := os.ReadFile(filepath.Join(r.work, "report", f))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("report/%s differs from the single-process run's (%v)", f, err)
		}
	}
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

// trialsWithoutWall reads trials.csv without its wall_s column (found by
// the header: the comparison's and a sweep's trials.csv differ).
func trialsWithoutWall(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header := strings.Split(lines[0], ",")
	wall := slices.Index(header, "wall_s")
	if wall < 0 {
		t.Fatalf("%s: no wall_s column: %s", path, lines[0])
	}
	var rows []string
	for _, line := range lines {
		f := strings.Split(line, ",")
		if len(f) != len(header) {
			t.Fatalf("%s: %d columns, want %d: %s", path, len(f), len(header), line)
		}
		rows = append(rows, strings.Join(slices.Delete(f, wall, wall+1), ","))
	}
	return strings.Join(rows, "\n")
}

// exitAction is what job's podFailurePolicy does when its container exits
// with code: the action of the first rule whose onExitCodes match it, as
// the Job controller applies them ("" when none does: the failure counts
// against the backoff limit).
func exitAction(job *batchv1.Job, code int32) batchv1.PodFailurePolicyAction {
	p := job.Spec.PodFailurePolicy
	if p == nil {
		return ""
	}
	name := job.Spec.Template.Spec.Containers[0].Name
	for _, rule := range p.Rules {
		e := rule.OnExitCodes
		if e == nil || (e.ContainerName != nil && *e.ContainerName != name) {
			continue
		}
		in := slices.Contains(e.Values, code)
		if (e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == in {
			return rule.Action
		}
	}
	return ""
}
