package alerts

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed generated files from the catalog")

// repoRoot is where the committed files live, relative to this package's directory.
const repoRoot = ".."

// TestCommittedFilesUpToDate fails when regenerating would change a committed file, so a catalog or
// rule change cannot land without its rule files, tests, PrometheusRule and runbook.
func TestCommittedFilesUpToDate(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(repoRoot, filepath.FromSlash(n))
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, files[n], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, files[n]) {
			t.Errorf("%s is out of date: run `make generate` (or `go test ./alerts -run TestCommittedFilesUpToDate -update`)", n)
		}
	}
}

func TestFilesPaths(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{RulesPath, RunbookPath, PrometheusRulePath,
		TestsDir + "/kpi.test.yml", TestsDir + "/predict.test.yml", TestsDir + "/health.test.yml"} {
		if len(files[want]) == 0 {
			t.Errorf("Files() has no %s", want)
		}
	}
}
