package promql

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/config"
)

// token is a sentinel: it must reach the upstream and never appear in an error.
const token = "ztmm-sentinel-7f3a9c1e5b2d4068"

// reply is what the fake Prometheus answers to one query: a status and a payload file of testdata/promql.
type reply struct {
	status int
	file   string
}

// fakePrometheus speaks /api/v1/query (POST form, or GET after a 405, as the client falls back) and
// answers each query expression with its reply. It records the Authorization headers it saw.
type fakePrometheus struct {
	prefix  string
	replies map[string]reply

	mu    sync.Mutex
	auths []string
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if r.URL.Path != f.prefix+"/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	rep, ok := f.replies[r.FormValue("query")]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"unexpected query %q"}`, r.FormValue("query"))
		return
	}
	body := []byte(token) // a misbehaving proxy echoing credentials: still never in our error text
	if rep.file != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join("../../testdata/promql", rep.file)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(body)
}

// newSource builds the source from a configuration file, as the exporter does, with the bearer token
// coming from the environment.
func newSource(t *testing.T, url, queries string, tel *collectors.Telemetry) *Source {
	t.Helper()
	t.Setenv("ZTMM_TEST_PROMETHEUS_TOKEN", token)
	yml := fmt.Sprintf(`organization: Acme
since: 2025-11-01
promql:
  - name: prom
    url: %s
    bearer_token: ${ZTMM_TEST_PROMETHEUS_TOKEN}
    queries:
%s`, url, queries)
	cfg, err := config.Parse([]byte(yml), filepath.Join(t.TempDir(), "ztmm.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg.PromQL[0], tel)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	availability = "      - {kpi: application_availability, query: 'avg_over_time(probe_success[30d])', service_label: service, team_label: owner}\n"
	costScalar   = "      - {kpi: infrastructure_cost_reduction, query: 'scalar(cost_reduction_ratio)'}\n"
	upQuery      = "      - {kpi: network_performance_improvement, query: 'up'}\n"
	stringQuery  = "      - {kpi: network_threat_detection_time, query: 'vector(1)'}\n"
)

func TestSync(t *testing.T) {
	const (
		availQ = "avg_over_time(probe_success[30d])"
		costQ  = "scalar(cost_reduction_ratio)"
	)
	tests := []struct {
		name    string
		prefix  string // the API under a path, as behind a reverse proxy
		queries string
		replies map[string]reply
		want    []string // kpi{team,service}=value, sorted
		wantErr string
		codes   map[string]float64
	}{
		{
			name:    "vector samples take their scope from the configured labels; NaN and Inf are dropped",
			queries: availability,
			replies: map[string]reply{availQ: {200, "query-vector-availability.json"}},
			want: []string{
				"application_availability{,platform/runner}=0.98",
				"application_availability{payments,acme/checkout}=0.9995",
				"application_availability{security,}=0.97",
			},
			codes: map[string]float64{"200": 1},
		},
		{
			name:    "samples without scope labels are organization values",
			queries: upQuery,
			replies: map[string]reply{"up": {200, "query-vector-up.json"}}, // verbatim from the Prometheus docs
			want: []string{
				"network_performance_improvement{,}=0",
				"network_performance_improvement{,}=1",
			},
			codes: map[string]float64{"200": 1},
		},
		{
			name:    "a scalar is the organization value",
			prefix:  "/prometheus",
			queries: costScalar,
			replies: map[string]reply{costQ: {200, "query-scalar.json"}},
			want:    []string{"infrastructure_cost_reduction{,}=0.21"},
			codes:   map[string]float64{"200": 1},
		},
		{
			name:    "a NaN scalar is no data",
			queries: costScalar,
			replies: map[string]reply{costQ: {200, "query-scalar-nan.json"}},
			codes:   map[string]float64{"200": 1},
		},
		{
			name:    "an empty vector is no data, not an error",
			queries: availability,
			replies: map[string]reply{availQ: {200, "query-vector-empty.json"}},
			codes:   map[string]float64{"200": 1},
		},
		{
			name:    "several queries in one sync",
			queries: availability + costScalar,
			replies: map[string]reply{availQ: {200, "query-vector-availability.json"}, costQ: {200, "query-scalar.json"}},
			want: []string{
				"application_availability{,platform/runner}=0.98",
				"application_availability{payments,acme/checkout}=0.9995",
				"application_availability{security,}=0.97",
				"infrastructure_cost_reduction{,}=0.21",
			},
			codes: map[string]float64{"200": 2},
		},
		{
			name:    "a server error fails the whole sync",
			queries: costScalar + availability,
			replies: map[string]reply{costQ: {200, "query-scalar.json"}, availQ: {500, ""}},
			wantErr: "query for application_availability: server_error: server error: 500",
			codes:   map[string]float64{"200": 1, "500": 1},
		},
		{
			name:    "a 503 without a JSON body fails the sync",
			queries: costScalar,
			replies: map[string]reply{costQ: {503, ""}},
			wantErr: "query for infrastructure_cost_reduction: server_error: server error: 503",
			codes:   map[string]float64{"503": 1},
		},
		{
			name:    "an API error names the upstream's error type and message",
			queries: costScalar,
			replies: map[string]reply{costQ: {422, "error-timeout.json"}},
			wantErr: "query for infrastructure_cost_reduction: timeout: query timed out in expression evaluation",
			codes:   map[string]float64{"422": 1},
		},
		{
			name:    "a refused query names the upstream's reason",
			queries: costScalar,
			replies: map[string]reply{costQ: {400, "error-bad-data.json"}},
			wantErr: `query for infrastructure_cost_reduction: bad_data: invalid parameter "query"`,
			codes:   map[string]float64{"400": 1},
		},
		{
			name:    "malformed JSON fails the sync",
			queries: costScalar,
			replies: map[string]reply{costQ: {200, "malformed.json"}},
			wantErr: "query for infrastructure_cost_reduction: bad_response:",
			codes:   map[string]float64{"200": 1},
		},
		{
			name:    "a string result is refused",
			queries: stringQuery,
			replies: map[string]reply{"vector(1)": {200, "query-string.json"}},
			wantErr: "query for network_threat_detection_time: bad_response: unexpected value type \"string\"",
			codes:   map[string]float64{"200": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakePrometheus{prefix: tt.prefix, replies: tt.replies}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			reg := prometheus.NewRegistry()
			s := newSource(t, srv.URL+tt.prefix+"/", tt.queries, collectors.NewTelemetry(reg))

			snap, err := s.Sync(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one starting with %q", err, tt.wantErr)
				}
				if snap != nil {
					t.Error("a failed sync returned a snapshot: the scheduler would replace the last good one")
				}
				if strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprintf("%+v", err), token) {
					t.Errorf("the bearer token leaked into the error: %v", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, v := range snap.Values {
					if !v.Time.IsZero() {
						t.Errorf("%s has a time; PromQL values are as of the sync", v.KPI)
					}
					got = append(got, fmt.Sprintf("%s{%s,%s}=%v", v.KPI, v.Team, v.Service, v.Value))
				}
				sort.Strings(got)
				if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("values\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}

			fake.mu.Lock()
			for _, a := range fake.auths {
				if a != "Bearer "+token {
					t.Errorf("Authorization %q, want the configured bearer token", a)
				}
			}
			fake.mu.Unlock()
			if got := requestCounts(t, reg); fmt.Sprint(got) != fmt.Sprint(tt.codes) {
				t.Errorf("ztmm_upstream_requests_total by code %v, want %v", got, tt.codes)
			}
		})
	}
}

func TestSyncUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/"
	srv.Close() // nothing listens there any more
	reg := prometheus.NewRegistry()
	s := newSource(t, url, costScalar, collectors.NewTelemetry(reg))
	_, err := s.Sync(context.Background())
	if err == nil {
		t.Fatal("sync against a closed port succeeded")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the bearer token leaked into the error: %v", err)
	}
	if got := requestCounts(t, reg); fmt.Sprint(got) != fmt.Sprint(map[string]float64{"error": 1}) {
		t.Errorf("ztmm_upstream_requests_total by code %v, want one \"error\"", got)
	}
	if s.Name() != "prom" || s.Kind() != "promql" {
		t.Errorf("name %q kind %q, want prom/promql", s.Name(), s.Kind())
	}
}

// requestCounts returns ztmm_upstream_requests_total of collector "prom" by code.
func requestCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "ztmm_upstream_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["collector"] != "prom" {
				t.Errorf("request counted for collector %q, want prom", labels["collector"])
			}
			out[labels["code"]] += m.GetCounter().GetValue()
		}
	}
	return out
}

// A query that starts failing fails the sync, and the scheduler keeps serving the last good values while
// the collector reports down.
func TestSyncFailureKeepsLastGoodValues(t *testing.T) {
	const costQ = "scalar(cost_reduction_ratio)"
	fake := &fakePrometheus{replies: map[string]reply{costQ: {200, "query-scalar.json"}}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	reg := prometheus.NewRegistry()
	s := newSource(t, srv.URL+"/", costScalar, collectors.NewTelemetry(reg))
	sched := collectors.NewScheduler(slog.New(slog.DiscardHandler), []collectors.Job{{Source: s, Interval: time.Minute, Timeout: 10 * time.Second}}, nil)
	reg.MustRegister(sched)

	sched.SyncOnce(context.Background())
	fake.mu.Lock()
	fake.replies[costQ] = reply{502, ""}
	fake.mu.Unlock()
	sched.SyncOnce(context.Background())

	snaps := sched.Snapshots()
	if len(snaps) != 1 || len(snaps[0].Values) != 1 || snaps[0].Values[0].Value != 0.21 {
		t.Fatalf("snapshots %+v, want the first sync's value 0.21", snaps)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	up := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "ztmm_collector_up" {
			up = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if up != 0 {
		t.Errorf("ztmm_collector_up = %v, want 0 after the failed sync", up)
	}
	if got := requestCounts(t, reg); fmt.Sprint(got) != fmt.Sprint(map[string]float64{"200": 1, "502": 1}) {
		t.Errorf("requests by code %v", got)
	}
}
