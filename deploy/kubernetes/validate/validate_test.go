package main

import (
	"strings"
	"testing"
)

// TestShippedExamples validates deploy/kubernetes as shipped.
func TestShippedExamples(t *testing.T) {
	n, err := ValidateDir("..")
	if err != nil {
		t.Fatal(err)
	}
	if n < 9 {
		t.Errorf("validated %d documents, want compare-optimizers' PVC, ConfigMap and 3 Jobs and sweep's PVC, ConfigMap and 2 Jobs", n)
	}
}

const goodJob = `apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: c
          image: i
          command: ["/bin/sh", "-c"]
          args: ["echo hi"]
          resources: {requests: {cpu: "1", memory: 1Gi}, limits: {memory: 1Gi}}
`

// TestStrict checks what the validator refuses.
func TestStrict(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"unknown field", strings.Replace(goodJob, "spec:\n  template", "spec:\n  backofflimit: 3\n  template", 1), `unknown field "spec.backofflimit"`},
		{"misplaced field", strings.Replace(goodJob, "      restartPolicy: Never", "      restartPolicy: Never\n      backoffLimit: 2", 1), `unknown field "spec.template.spec.backoffLimit"`},
		{"not checked kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", `not a type this validator checks`},
		{"duplicate key", strings.Replace(goodJob, "metadata: {name: j}", "metadata: {name: j}\nmetadata: {name: k}", 1), `key "metadata" already set`},
		{"wrong type", strings.Replace(goodJob, "spec:\n  template", "spec:\n  completions: four\n  template", 1), `completions`},
		{"unknown kind", "apiVersion: v1\nkind: Podd\nmetadata: {name: p}\n", `no kind "Podd" is registered`},
		{"restart policy", strings.Replace(goodJob, "restartPolicy: Never", "restartPolicy: Always", 1), `restartPolicy must be Never or OnFailure`},
		{"per-index limit with OnFailure", strings.Replace(strings.Replace(goodJob, "restartPolicy: Never", "restartPolicy: OnFailure", 1), "spec:\n  template", "spec:\n  completionMode: Indexed\n  completions: 2\n  backoffLimitPerIndex: 1\n  template", 1), `need restartPolicy Never`},
		{"shell syntax", strings.Replace(goodJob, `args: ["echo hi"]`, `args: ["for i in; do"]`, 1), `sh -n rejects`},
		{"no memory limit", strings.Replace(goodJob, ", limits: {memory: 1Gi}", "", 1), `no memory limit`},
		{"missing claim", goodJob + "      volumes: [{name: w, persistentVolumeClaim: {claimName: nope}}]\n", `claims "nope"`},
		{"later stage not suspended", strings.Replace(goodJob, "metadata: {name: j}", "metadata: {name: j, labels: {stage: final}}", 1), `must be created suspended`},
		{"indexed without shards", strings.Replace(goodJob, "spec:\n  template", "spec:\n  completionMode: Indexed\n  completions: 2\n  template", 1), `no SHARDS`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := DecodeStrict("t.yaml", strings.NewReader(tt.yaml))
			if err == nil {
				err = Check(docs)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	docs, err := DecodeStrict("t.yaml", strings.NewReader(goodJob))
	if err == nil {
		err = Check(docs)
	}
	if err != nil {
		t.Errorf("the good job: %v", err)
	}
}
