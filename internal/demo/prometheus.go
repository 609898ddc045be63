package demo

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"time"
)

// promQuery is a PromQL query of the demo configuration and what the fake Prometheus answers to it.
type promQuery struct {
	KPI          string
	Query        string
	ServiceLabel string
	// base values per service label value ("" = one organization-wide sample)
	values map[string]float64
}

// promQueries feed the KPIs that the demo has no collector for, the way a real organization would from
// its own Prometheus (blackbox probes, identity provider and MDM exporters, kube-state-metrics).
var promQueries = []promQuery{
	{KPI: "identity_verification_time", Query: `histogram_quantile(0.95, sum by (le) (rate(oidc_probe_duration_seconds_bucket[30d])))`, values: map[string]float64{"": 1.4}},
	{KPI: "mfa_coverage", Query: `sum(okta_users_mfa_active) / sum(okta_users_active)`, values: map[string]float64{"": 0.993}},
	{KPI: "standing_privileged_accounts", Query: `count(entra_role_assignment_permanent == 1)`, values: map[string]float64{"": 3}},
	{KPI: "stale_account_ratio", Query: `sum(okta_users_stale_90d) / sum(okta_users_active)`, values: map[string]float64{"": 0.035}},
	{KPI: "endpoint_compliance_rate", Query: `sum(intune_devices{compliance_state="compliant"}) / sum(intune_devices)`, values: map[string]float64{"": 0.987}},
	{KPI: "endpoint_threat_response_time", Query: `quantile_over_time(0.5, defender_alert_resolution_seconds[30d])`, values: map[string]float64{"": 45}},
	{KPI: "endpoint_performance_impact", Query: `avg(endpoint_agent_cpu_overhead_ratio)`, values: map[string]float64{"": 0.03}},
	{KPI: "application_availability", Query: `avg by (service) (avg_over_time(probe_success{job="blackbox"}[30d]))`, ServiceLabel: "service", values: map[string]float64{
		"acme/checkout": 0.9996, "acme/payments-api": 0.9995, "acme/web-shop": 0.9993, "acme/search": 0.9982, "mobile/ios-app": 0.9994,
	}},
	{KPI: "infrastructure_policy_compliance_rate", Query: `sum(kyverno_policy_results_total{result="pass"}) / sum(kyverno_policy_results_total{result=~"pass|fail"})`, values: map[string]float64{"": 0.992}},
	{KPI: "data_governance_compliance_rate", Query: `sum(policy_report_results{category="data",result="pass"}) / sum(policy_report_results{category="data"})`, values: map[string]float64{"": 0.975}},
	{KPI: "network_segmentation_effectiveness", Query: `sum(kube_pod_networkpolicy_selected) / count(kube_pod_info)`, values: map[string]float64{"": 0.962}},
	{KPI: "network_threat_detection_time", Query: `quantile_over_time(0.5, ids_detection_latency_seconds[30d])`, values: map[string]float64{"": 22}},
}

// fakePrometheus answers /api/v1/query for the demo's queries with slowly drifting values (a few tenths
// of a percent, deterministic for seed and time) so dashboards show live series without flipping a
// KPI across its target.
type fakePrometheus struct {
	seed    int64
	now     func() time.Time
	byQuery map[string]promQuery
}

func newFakePrometheus(seed int64, now func() time.Time) *fakePrometheus {
	f := &fakePrometheus{seed: seed, now: now, byQuery: map[string]promQuery{}}
	for _, q := range promQueries {
		f.byQuery[q.Query] = q
	}
	return f
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/api/v1/query" {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": "not_found", "error": "not found"})
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	q, ok := f.byQuery[r.Form.Get("query")]
	now := f.now()
	result := []promSample{}
	if ok {
		for svc, base := range q.values {
			m := map[string]string{}
			if svc != "" {
				m[q.ServiceLabel] = svc
			}
			v := drift(f.seed, q.KPI+svc, base, now)
			result = append(result, promSample{Metric: m, Value: [2]any{float64(now.Unix()), strconv.FormatFloat(v, 'g', -1, 64)}})
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}})
}

// drift moves base a little on a daily sine, phase from seed and key: ratios by a tenth of their distance
// to 0 or 1 (so they never cross 1 or their target), other values by 2 %, counts not at all.
func drift(seed int64, key string, base float64, now time.Time) float64 {
	if base >= 1 && base == math.Trunc(base) {
		return base
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	phase := float64(h.Sum64()%1000)/1000*2*math.Pi + float64(seed)
	sin := math.Sin(2*math.Pi*float64(now.Unix())/86400 + phase)
	if base <= 1 {
		return base + 0.1*min(base, 1-base)*sin
	}
	return base * (1 + 0.02*sin)
}
