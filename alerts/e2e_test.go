package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/e2e"
)

// webhook is the part of Alertmanager's webhook payload the test reads.
type webhook struct {
	Alerts []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// receiver is the Alertmanager webhook receiver: a loopback server that keeps every alert it is sent.
type receiver struct {
	mu     sync.Mutex
	alerts []map[string]string // labels, annotations prefixed with "annotation:"
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p webhook
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, a := range p.Alerts {
		if a.Status != "firing" {
			continue
		}
		m := map[string]string{}
		for k, v := range a.Labels {
			m[k] = v
		}
		for k, v := range a.Annotations {
			m["annotation:"+k] = v
		}
		rc.alerts = append(rc.alerts, m)
	}
}

func (rc *receiver) find(match func(map[string]string) bool) (map[string]string, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, a := range rc.alerts {
		if match(a) {
			return a, true
		}
	}
	return nil, false
}

// TestAlertsReachAlertmanager runs the generated rules in the real Prometheus against the exporter on
// the demo organization, with the real Alertmanager delivering to a webhook in this test.
func TestAlertsReachAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the demo exporter, Prometheus and Alertmanager")
	}
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	// The rules wait up to an hour before firing; the demo's values are steady, so holding them for
	// zero seconds tests the same expressions, templates and labels without an hour-long test.
	rules := regexp.MustCompile(`(?m)^(\s+for: ).+$`).ReplaceAll(files[RulesPath], []byte("${1}0s"))
	rulePath := filepath.Join(t.TempDir(), "ztmm.rules.yml")
	if err := os.WriteFile(rulePath, rules, 0o644); err != nil {
		t.Fatal(err)
	}

	rc := &receiver{}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	am := e2e.StartAlertmanager(t, fmt.Sprintf(`route:
  receiver: test
  group_by: ['...']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %q
`, hook.URL))

	exp := e2e.StartDemoExporter(t)
	prom := e2e.StartPrometheus(t, e2e.PrometheusOptions{
		Targets:         []string{exp.Address},
		RuleFiles:       []string{rulePath},
		AlertmanagerURL: am.URL,
	})

	// The demo's user experience survey says 4.3 against the document's > 4.5 (see internal/demo).
	prom.WaitForQuery(t, `ztmm_kpi_target_met{kpi="user_experience_score", team="", service=""} == 0`, 30*time.Second)
	want := map[string]string{
		"alertname": KpiTargetBreached, "pillar": "identities", "kpi": "user_experience_score", "severity": Info,
		"annotation:summary":     "User experience satisfaction score misses its target for the organization.",
		"annotation:description": `User experience satisfaction score of the organization is 4.3; the target is > 4.5 (the document's ">4.5/5"). It has missed the target for 1h.`,
		"annotation:runbook_url": RunbookURL + "#ztmmkpitargetbreached-identities",
	}
	var got map[string]string
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ok bool
		if got, ok = rc.find(func(a map[string]string) bool {
			return a["alertname"] == KpiTargetBreached && a["kpi"] == "user_experience_score" && a["team"] == "" && a["service"] == ""
		}); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s for user_experience_score reached the webhook receiver within 60s", KpiTargetBreached)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("received alert %s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("received alert has unexpected label %s=%q", k, got[k])
		}
	}

	// KPIs that meet their target must not fire. Asked in one query, so the alert state and the KPI
	// come from the same evaluation time.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	metNow, err := prom.Query(ctx, `ztmm_kpi_target_met == 1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(metNow) == 0 {
		t.Fatal("the demo meets no KPI target: the quiet half of this test would prove nothing")
	}
	wrong, err := prom.Query(ctx, `ALERTS{alertname="`+KpiTargetBreached+`", alertstate="firing"}
		and on (pillar, kpi, team, service) max by (pillar, kpi, team, service) (ztmm_kpi_target_met) == 1`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range wrong {
		t.Errorf("%s fires for a KPI that meets its target: %v", KpiTargetBreached, s.Metric)
	}
	if a, ok := rc.find(func(a map[string]string) bool {
		if a["alertname"] != KpiTargetBreached {
			return false
		}
		for _, s := range metNow {
			if string(s.Metric["kpi"]) == a["kpi"] && string(s.Metric["team"]) == a["team"] && string(s.Metric["service"]) == a["service"] {
				return true
			}
		}
		return false
	}); ok {
		t.Errorf("the receiver got %s for a KPI that meets its target: %v", KpiTargetBreached, a)
	}
}
