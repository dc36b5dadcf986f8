package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// doc is one decoded YAML document and where it came from.
type doc struct {
	where string // file:document-number
	obj   any    // *corev1.PersistentVolumeClaim, *corev1.ConfigMap or *batchv1.Job
}

// scheme knows the API types the examples use; codecs decodes strictly
// as the API server does (case-sensitive field names, unknown and duplicate
// fields are errors).
var (
	scheme = runtime.NewScheme()
	codecs = serializer.NewCodecFactory(scheme, serializer.EnableStrict)
)

func init() {
	utilruntime.Must(corev1.AddToScheme(scheme))
	utilruntime.Must(batchv1.AddToScheme(scheme))
}

// DecodeStrict decodes every document of one file's YAML into its API type.
func DecodeStrict(name string, r io.Reader) ([]doc, error) {
	var docs []doc
	var errs []error
	rd := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for n := 1; ; n++ {
		raw, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		where := fmt.Sprintf("%s: document %d", name, n)
		var probe map[string]any
		if err := yaml.Unmarshal(raw, &probe); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if len(probe) == 0 {
			continue // only comments
		}
		obj, gvk, err := codecs.UniversalDeserializer().Decode(raw, nil, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		switch obj.(type) {
		case *corev1.PersistentVolumeClaim, *corev1.ConfigMap, *batchv1.Job:
		default:
			errs = append(errs, fmt.Errorf("%s: %s: not a type this validator checks (PersistentVolumeClaim, ConfigMap, Job)", where, gvk))
			continue
		}
		docs = append(docs, doc{where: where, obj: obj})
	}
	return docs, errors.Join(errs...)
}

// ValidateDir decodes and checks every *.yaml file under dir (this
// module's own directory aside) and returns the number of documents.
func ValidateDir(dir string) (int, error) {
	var docs []doc
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "validate" {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ds, err := DecodeStrict(path, bytes.NewReader(b))
		if err != nil {
			errs = append(errs, err)
		}
		docs = append(docs, ds...)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(docs) == 0 && len(errs) == 0 {
		return 0, fmt.Errorf("%s: no Kubernetes documents", dir)
	}
	errs = append(errs, Check(docs))
	return len(docs), errors.Join(errs...)
}

// Check checks decoded documents against each other and the API rules the
// examples rely on (see the package comment).
func Check(docs []doc) error {
	var errs []error
	bad := func(where, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{where}, a...)...))
	}
	claims := map[string]bool{}
	configMaps := map[string]*corev1.ConfigMap{}
	for _, d := range docs {
		switch o := d.obj.(type) {
		case *corev1.PersistentVolumeClaim:
			claims[o.Name] = true
			if len(o.Spec.AccessModes) == 0 {
				bad(d.where, "PersistentVolumeClaim %s states no accessModes", o.Name)
			}
			if q, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.IsZero() {
				bad(d.where, "PersistentVolumeClaim %s requests no storage", o.Name)
			}
		case *corev1.ConfigMap:
			configMaps[o.Name] = o
		}
	}
	images := map[string]string{}
	for _, d := range docs {
		var meta metav1.ObjectMeta
		switch o := d.obj.(type) {
		case *corev1.PersistentVolumeClaim:
			meta = o.ObjectMeta
		case *corev1.ConfigMap:
			meta = o.ObjectMeta
		case *batchv1.Job:
			meta = o.ObjectMeta
		}
		for _, msg := range validation.IsDNS1123Subdomain(meta.Name) {
			bad(d.where, "name %q: %s", meta.Name, msg)
		}
		job, ok := d.obj.(*batchv1.Job)
		if !ok {
			continue
		}
		spec, pod := job.Spec, job.Spec.Template.Spec
		if st := job.Labels["stage"]; (st == "final" || st == "report") && (spec.Suspend == nil || !*spec.Suspend) {
			bad(d.where, "Job %s (stage %s) must be created suspended, or applying the directory at once starts it before its inputs are complete", job.Name, st)
		}
		switch pod.RestartPolicy {
		case corev1.RestartPolicyNever:
		case corev1.RestartPolicyOnFailure:
			if spec.BackoffLimitPerIndex != nil || spec.PodFailurePolicy != nil {
				bad(d.where, "Job %s: backoffLimitPerIndex and podFailurePolicy need restartPolicy Never", job.Name)
			}
		default:
			bad(d.where, "Job %s: restartPolicy must be Never or OnFailure, got %q", job.Name, pod.RestartPolicy)
		}
		if spec.BackoffLimitPerIndex != nil && (spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion) {
			bad(d.where, "Job %s: backoffLimitPerIndex needs completionMode Indexed", job.Name)
		}
		var shards string
		for _, v := range pod.Volumes {
			if v.PersistentVolumeClaim != nil && !claims[v.PersistentVolumeClaim.ClaimName] {
				bad(d.where, "Job %s: volume %s claims %q, which no document defines", job.Name, v.Name, v.PersistentVolumeClaim.ClaimName)
			}
		}
		if len(pod.Containers) == 0 {
			bad(d.where, "Job %s has no containers", job.Name)
		}
		for _, c := range pod.Containers {
			images[c.Image] = d.where
			if c.Image == "" {
				bad(d.where, "Job %s: container %s has no image", job.Name, c.Name)
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					bad(d.where, "Job %s: container %s requests no %s", job.Name, c.Name, r)
				}
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				bad(d.where, "Job %s: container %s has no memory limit", job.Name, c.Name)
			}
			for _, e := range c.EnvFrom {
				if e.ConfigMapRef == nil {
					continue
				}
				cm, ok := configMaps[e.ConfigMapRef.Name]
				if !ok {
					bad(d.where, "Job %s: container %s reads ConfigMap %q, which no document defines", job.Name, c.Name, e.ConfigMapRef.Name)
					continue
				}
				if s, ok := cm.Data["SHARDS"]; ok {
					shards = s
				}
			}
			if len(c.Command) == 2 && c.Command[0] == "/bin/sh" && c.Command[1] == "-c" {
				if len(c.Args) != 1 {
					bad(d.where, "Job %s: container %s: /bin/sh -c wants one script in args, got %d", job.Name, c.Name, len(c.Args))
				} else if out, err := exec.Command("sh", "-n", "-c", c.Args[0]).CombinedOutput(); err != nil {
					bad(d.where, "Job %s: container %s: sh -n rejects the script: %v: %s", job.Name, c.Name, err, out)
				}
			}
		}
		if spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion {
			if spec.Completions == nil {
				bad(d.where, "Job %s: an Indexed Job needs completions", job.Name)
				continue
			}
			n := *spec.Completions
			if spec.Parallelism != nil && *spec.Parallelism != n {
				bad(d.where, "Job %s: parallelism %d differs from completions %d", job.Name, *spec.Parallelism, n)
			}
			if shards == "" {
				bad(d.where, "Job %s: an Indexed Job whose pods get no SHARDS from a ConfigMap", job.Name)
			} else if s, err := strconv.Atoi(shards); err != nil || int32(s) != n {
				bad(d.where, "Job %s: completions %d differ from the ConfigMap's SHARDS %q", job.Name, n, shards)
			}
		}
	}
	if len(images) > 1 {
		bad("images", "the Jobs use %d different images: %v", len(images), images)
	}
	return errors.Join(errs...)
}
