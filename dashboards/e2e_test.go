package dashboards

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/e2e"
)

// TestPanelsReturnDataOnDemo runs the real Prometheus scraping the exporter on the demo organization and
// evaluates every panel query and variable with the variables' default values (SPEC section 5: every
// panel query must return data against the demo organization).
func TestPanelsReturnDataOnDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs the exporter and Prometheus")
	}
	exp := e2e.StartDemoExporter(t)
	prom := e2e.StartPrometheus(t, e2e.PrometheusOptions{Targets: []string{exp.Address}})

	// $__rate_interval is at least four scrape intervals in Grafana; rates need two samples in it, so
	// wait for enough scrapes rather than for a duration.
	const rateInterval = "10s"
	prom.WaitForQuery(t, `count_over_time(ztmm_kpi_info{kpi="deployment_frequency"}[`+rateInterval+`]) >= 4`, 2*time.Minute)

	type key struct{ dashboard, panel, expr string }
	var empty []key
	seen := map[string]bool{}
	for _, d := range generated(t) {
		for _, tg := range targetsOf(d) {
			expr := substitute(tg.expr, scopes[0].vars, rateInterval, "1h")
			if seen[expr] {
				continue
			}
			seen[expr] = true
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			v, err := prom.Query(ctx, expr)
			cancel()
			if err != nil {
				t.Errorf("%s / %s: %v\n%s", tg.dashboard, tg.panel, err, expr)
				continue
			}
			if len(v) == 0 {
				empty = append(empty, key{tg.dashboard, tg.panel, expr})
			}
		}
		for _, q := range variableQueries(d) {
			// label_values(selector, label) is a series lookup; the selector returning series is
			// what makes the dropdown non-empty.
			selector := strings.TrimPrefix(q, "label_values(")
			selector = selector[:strings.LastIndex(selector, ",")]
			expr := "count(" + substitute(selector, scopes[0].vars, rateInterval, "1h") + ")"
			if seen[expr] {
				continue
			}
			seen[expr] = true
			v, err := prom.Query(context.Background(), expr)
			if err != nil || len(v) == 0 {
				empty = append(empty, key{d["title"].(string), "variable " + q, expr})
			}
		}
	}
	sort.Slice(empty, func(i, j int) bool { return empty[i].dashboard+empty[i].panel < empty[j].dashboard+empty[j].panel })
	for _, e := range empty {
		t.Errorf("%s / %s: no data\n%s", e.dashboard, e.panel, e.expr)
	}
}

// TestScopeSelectionOnDemo checks the scope design on real series: with each team and each service
// selected, the scope query returns exactly that scope's series, and the raw sum covers only its
// services.
func TestScopeSelectionOnDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs the exporter and Prometheus")
	}
	exp := e2e.StartDemoExporter(t)
	prom := e2e.StartPrometheus(t, e2e.PrometheusOptions{Targets: []string{exp.Address}})
	services := prom.WaitForQuery(t, `ztmm_kpi_value{kpi="deployment_frequency", service!=""}`, 2*time.Minute)
	ctx := context.Background()
	escape := func(s string) string { return strings.NewReplacer(".", `\\.`, "+", `\\+`, "*", `\\*`).Replace(s) }
	teams := map[string]bool{}
	for _, s := range services {
		team, service := string(s.Metric["team"]), string(s.Metric["service"])
		teams[team] = true
		// A service selected with team All, and with its own team.
		for _, tv := range []string{allValue, escape(team)} {
			if team == "" && tv != allValue {
				continue
			}
			expr := substitute(scoped("ztmm_kpi_value", `kpi="deployment_frequency"`), map[string]string{"$team": tv, "$service": escape(service)}, "10s", "1h")
			v, err := prom.Query(ctx, expr)
			if err != nil || len(v) != 1 || string(v[0].Metric["service"]) != service || v[0].Value != s.Value {
				t.Errorf("service %s, team %q: got %v (%v), want only its series %v", service, tv, v, err, s.Value)
			}
		}
	}
	for team := range teams {
		if team == "" {
			continue
		}
		expr := substitute(scoped("ztmm_kpi_value", `kpi="deployment_frequency"`), map[string]string{"$team": escape(team), "$service": allValue}, "10s", "1h")
		v, err := prom.Query(ctx, expr)
		if err != nil || len(v) != 1 || string(v[0].Metric["team"]) != team || v[0].Metric["service"] != "" {
			t.Errorf("team %s: got %v (%v), want only the team series", team, v, err)
		}
		// The service breakdown lists exactly the team's services.
		expr = substitute(byService("ztmm_kpi_value", `kpi="deployment_frequency"`), map[string]string{"$team": escape(team), "$service": allValue}, "10s", "1h")
		v, err = prom.Query(ctx, expr)
		if err != nil || len(v) == 0 {
			t.Errorf("team %s: by service: %v (%v)", team, v, err)
		}
		for _, s := range v {
			if string(s.Metric["team"]) != team {
				t.Errorf("team %s: by service lists %v", team, s.Metric)
			}
		}
	}
}
