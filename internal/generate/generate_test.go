package generate

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated files (same as make generate)")

// TestGeneratedFilesAreCommitted fails when regenerating would change a committed file: dashboards, rule
// files, the runbook, the Kubernetes PrometheusRule and dashboard ConfigMaps, and METRICS.md are reviewed
// as code, so they must be what the generators produce. -update rewrites them.
func TestGeneratedFilesAreCommitted(t *testing.T) {
	files, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["METRICS.md"]; !ok {
		t.Fatal("METRICS.md is not generated")
	}
	for name, want := range files {
		p := filepath.Join("..", "..", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v (run make generate and commit the result)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run make generate and commit the result", name)
		}
	}
}

func TestMetricsDocNamesEveryStableFamily(t *testing.T) {
	doc := string(MetricsDoc())
	for _, name := range []string{
		"ztmm_kpi_info", "ztmm_kpi_target", "ztmm_kpi_value", "ztmm_kpi_target_met", "ztmm_dora_performance_level",
		"ztmm_collector_up", "ztmm_collector_last_success_timestamp_seconds", "ztmm_collector_duration_seconds",
		"ztmm_upstream_requests_total", "ztmm_upstream_rate_limit_remaining", "ztmm_build_info",
		"identities.l2.mfa", "lead_time_for_changes",
	} {
		if !bytes.Contains([]byte(doc), []byte("`"+name+"`")) {
			t.Errorf("METRICS.md does not document %s", name)
		}
	}
}
