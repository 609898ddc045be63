package e2e

import (
	"testing"
	"time"
)

// TestPrometheusScrapesTheDemoExporter is the harness's own end-to-end check: a real Prometheus scrapes
// the real exporter on the demo organization and sees KPI values, targets and healthy collectors.
func TestPrometheusScrapesTheDemoExporter(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts Prometheus")
	}
	exp := StartDemoExporter(t)
	prom := StartPrometheus(t, PrometheusOptions{Targets: []string{exp.Address}})

	up := prom.WaitForQuery(t, `up{job="ztmm"} == 1`, 30*time.Second)
	if len(up) != 1 {
		t.Fatalf("up = %v, want one healthy target", up)
	}
	kpis := prom.WaitForQuery(t, `count(ztmm_kpi_info)`, 30*time.Second)
	if got := int(kpis[0].Value); got != 40 {
		t.Errorf("ztmm_kpi_info series = %d, want 40 (36 document KPIs + 4 indicators)", got)
	}
	v := prom.WaitForQuery(t, `ztmm_kpi_value{kpi="user_experience_score",team="",service=""}`, 30*time.Second)
	if float64(v[0].Value) != 4.3 {
		t.Errorf("user_experience_score = %v, want the demo's 4.3", v[0].Value)
	}
	met := prom.WaitForQuery(t, `ztmm_kpi_target_met{kpi="user_experience_score"}`, 30*time.Second)
	if float64(met[0].Value) != 0 {
		t.Errorf("user_experience_score 4.3 against > 4.5: target_met = %v, want 0", met[0].Value)
	}
	down := prom.WaitForQuery(t, `count(ztmm_collector_up == 1)`, 30*time.Second)
	if float64(down[0].Value) < 2 {
		t.Errorf("healthy collectors = %v, want every demo source up", down[0].Value)
	}
}
