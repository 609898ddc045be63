package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// tool returns the path of a Prometheus tool, failing the test with how to get it when it is missing:
// the rule checks are part of `make test`, so skipping them silently would hide broken rules.
func tool(t *testing.T, name string) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/" + name, name} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatalf("%s is not installed: run .ci/run, or `apt-get install prometheus prometheus-alertmanager` (Debian), to get promtool and amtool", name)
	return ""
}

// writeGenerated writes what Files returns under a temporary root, so promtool checks the generator's
// output itself (TestCommittedFilesUpToDate ties it to the committed copy).
func writeGenerated(t *testing.T) string {
	t.Helper()
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for n, b := range files {
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := tool(t, "promtool")
	root := writeGenerated(t)

	// The PrometheusRule's spec must be a valid rule file on its own.
	raw, err := os.ReadFile(filepath.Join(root, PrometheusRulePath))
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &pr); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(&pr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(root, "prometheusrule-spec.yml")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, f := range []string{filepath.Join(root, RulesPath), specPath} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// --lint-fatal: duplicate rules would make a per-KPI rule shadow another.
			out := run(t, root, promtool, "check", "rules", "--lint-fatal", f)
			if !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool check rules %s:\n%s", f, out)
			}
		})
	}
}

func TestPromtoolUnitTests(t *testing.T) {
	promtool := tool(t, "promtool")
	root := writeGenerated(t)
	tests, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(TestsDir), "*.yml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no promtool test files under %s (%v)", TestsDir, err)
	}
	for _, f := range tests {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			run(t, filepath.Dir(f), promtool, "test", "rules", filepath.Base(f))
		})
	}
}
