package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
	fake "github.com/ztmm/ztmm/internal/fakes/github"
)

var (
	since0 = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	now0   = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
)

// clock is a settable test clock shared by the fake and the collector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	fake  *fake.Server
	srv   *httptest.Server
	clock *clock
	tel   *collectors.Telemetry
	reg   *prometheus.Registry
	cfg   config.GitHub
}

func newEnv(t testing.TB, opts fake.Options) *env {
	t.Helper()
	clk := &clock{t: now0}
	if opts.Repos == nil {
		opts = fake.DemoOptions(1, since0, clk.Now)
	}
	opts.Now = clk.Now
	opts.Token = "s3cr3t-token"
	f := fake.New(opts)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	cfg := config.GitHub{Name: "gh", BaseURL: srv.URL + "/", Organizations: []string{"acme"},
		IaCWorkflows: config.Globs{"terraform-*.yml"}, Concurrency: 2}
	cfg.Token = secret(t, "s3cr3t-token")
	if opts.CentralRepo != "" {
		cfg.Incidents.Repositories = []string{opts.CentralRepo}
	}
	return &env{fake: f, srv: srv, clock: clk, tel: collectors.NewTelemetry(reg), reg: reg, cfg: cfg}
}

// secret builds a config.Secret the way users provide one, through an ${ENV} reference in a config file.
func secret(t testing.TB, v string) config.Secret {
	t.Helper()
	t.Setenv("ZTMM_TEST_GH_TOKEN", v)
	c, err := config.Parse([]byte("organization: Acme\nsince: 2025-11-01\ngithub:\n  - token: ${ZTMM_TEST_GH_TOKEN}\n    organizations: [acme]\n"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c.GitHub[0].Token
}

func (e *env) collector(t testing.TB) *Collector {
	t.Helper()
	c, err := New(e.cfg, since0, func(s string) string { return "team-of-" + s }, e.tel, nil, WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSyncDemoOrganization(t *testing.T) {
	e := newEnv(t, fake.Options{})
	c := e.collector(t)
	snap, err := c.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kpis := map[string]int{}
	for _, o := range snap.Observations {
		kpis[o.KPI]++
		if o.Value < 0 {
			t.Errorf("negative observation %+v", o)
		}
	}
	for _, k := range []string{"security_scan_completion_time", "infrastructure_provisioning_time", "privileged_access_fulfillment_time",
		"data_access_fulfillment_time", "application_vulnerability_resolution_time", "vulnerability_resolution_time"} {
		if kpis[k] == 0 {
			t.Errorf("no observations of %s", k)
		}
	}
	services := map[string]bool{}
	for _, d := range snap.DORA.Deployments {
		services[d.Service] = true
	}
	if len(services) != 12 {
		t.Errorf("deployments from %d services, want the 12 demo services: %v", len(services), services)
	}
	if services["acme/security-ops"] {
		t.Error("the central incident repository must not be a service")
	}
	var pillars, security, withService int
	for _, in := range snap.DORA.Incidents {
		if in.Pillar != "" {
			pillars++
		}
		if in.Security {
			security++
		}
		if strings.HasPrefix(in.Service, "acme/") {
			withService++
		}
	}
	if len(snap.DORA.Incidents) == 0 || pillars == 0 || security == 0 || withService != len(snap.DORA.Incidents) {
		t.Errorf("incidents %d, with pillar %d, security %d, with service %d", len(snap.DORA.Incidents), pillars, security, withService)
	}
	compliant := map[float64]int{}
	for _, cn := range snap.Counts {
		if cn.KPI == "security_policy_compliance_rate" {
			compliant[cn.Numerator]++
		}
	}
	if compliant[1] == 0 || compliant[0] == 0 || compliant[0]+compliant[1] != 12 {
		t.Errorf("compliance counts %v, want both compliant and not, 12 in all", compliant)
	}
	// Analyzable: the DORA engine accepts the input and produces a lead time.
	a := dora.Analyze(snap.DORA, 7*24*time.Hour)
	if _, ok := a.Value("lead_time_for_changes", func(string) bool { return true }, now0.AddDate(0, 0, -30), now0); !ok {
		t.Error("no lead time from the demo organization")
	}
}

func TestSteadyStateResyncCostsNoRateLimit(t *testing.T) {
	e := newEnv(t, fake.Options{})
	c := e.collector(t)
	first, err := c.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	firstCost := e.fake.Stats()
	e.fake.ResetStats()
	again, err := c.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st := e.fake.Stats()
	t.Logf("first sync: %d requests; resync: %d requests, %d 304s, %d charged", firstCost.Requests, st.Requests, st.NotModified, st.Charged)
	// A run or deployment still in progress is fetched by itself once (then revalidated): allow two.
	if st.Charged > 2 {
		t.Errorf("resync of an unchanged organization charged %d requests, want at most 2", st.Charged)
	}
	if st.Requests > 13*7 || st.NotModified < st.Requests-2 {
		t.Errorf("resync made %d requests (%d 304s), want only 304s, at most ~7 per repository", st.Requests, st.NotModified)
	}
	if len(again.DORA.Deployments) != len(first.DORA.Deployments) || len(again.Observations) != len(first.Observations) {
		t.Errorf("resync changed the snapshot: %d/%d deployments, %d/%d observations", len(again.DORA.Deployments),
			len(first.DORA.Deployments), len(again.Observations), len(first.Observations))
	}
	// Time passes: new events appear and cost only what is new.
	e.clock.Add(24 * time.Hour)
	e.fake.ResetStats()
	later, err := c.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(later.DORA.Deployments) <= len(first.DORA.Deployments) {
		t.Errorf("a day later: %d deployments, want more than %d", len(later.DORA.Deployments), len(first.DORA.Deployments))
	}
	if st := e.fake.Stats(); st.Charged >= firstCost.Charged/5 {
		t.Errorf("a day's incremental sync charged %d requests, first sync %d: not incremental", st.Charged, firstCost.Charged)
	}
	// Requests are counted by code, 304s included.
	if n := counterValue(t, e.reg, "ztmm_upstream_requests_total", map[string]string{"collector": "gh", "code": "304"}); n == 0 {
		t.Error("no 304s counted in ztmm_upstream_requests_total")
	}
	if n := gaugeValue(t, e.reg, "ztmm_upstream_rate_limit_remaining", map[string]string{"collector": "gh"}); n <= 0 || n >= 5000 {
		t.Errorf("rate limit remaining %v, want the fake's budget minus the sync's cost", n)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault fake.Fault
		// wantRetry is the minimum RetryAfter the scheduler must honour; 0: a plain error.
		wantRetry time.Duration
		wantErr   string
	}{
		{"server error", fake.Fault{Path: "/deployments", Kind: fake.ServerError, Times: 1}, 0, "502"},
		{"malformed json", fake.Fault{Path: "/statuses", Kind: fake.MalformedJSON, Times: 1}, 0, "unexpected EOF"},
		// go-github itself then refuses requests until the reset (real time), as the scheduler does.
		{"rate limit exhausted", fake.Fault{Path: "/issues", Kind: fake.RateLimited, Times: 1}, time.Second, "rate limit"},
		{"secondary rate limit", fake.Fault{Path: "/compare/", Kind: fake.SecondaryRateLimit, Times: 1, RetryAfter: 90 * time.Second}, 90 * time.Second, "secondary"},
		{"repository listing forbidden", fake.Fault{Path: "/orgs/acme/repos", Kind: fake.Forbidden, Times: 1}, 0, "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fake.Options{})
			c := e.collector(t)
			e.fake.Inject(tt.fault)
			_, err := c.Sync(context.Background())
			if err == nil {
				t.Fatal("sync succeeded despite the fault")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks the token: %v", err)
			}
			var ra *collectors.RetryAfterError
			if got := errors.As(err, &ra); got != (tt.wantRetry > 0) || (got && ra.After < tt.wantRetry) {
				t.Errorf("RetryAfter = %v (%v), want at least %v", got, ra, tt.wantRetry)
			}
			if tt.wantRetry > 0 {
				return
			}
			// The next sync recovers completely: nothing was skipped because of the failed one.
			e.fake.ClearFaults()
			snap, err := c.Sync(context.Background())
			if err != nil {
				t.Fatalf("sync after the fault: %v", err)
			}
			ref, err := newEnv(t, fake.Options{}).collector(t).Sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.DORA.Deployments) != len(ref.DORA.Deployments) || len(snap.DORA.Incidents) != len(ref.DORA.Incidents) ||
				len(snap.Observations) != len(ref.Observations) {
				t.Errorf("after recovery: %d deployments, %d incidents, %d observations; a clean sync has %d, %d, %d",
					len(snap.DORA.Deployments), len(snap.DORA.Incidents), len(snap.Observations),
					len(ref.DORA.Deployments), len(ref.DORA.Incidents), len(ref.Observations))
			}
		})
	}
}

func TestRepositoryDeletedMidSync(t *testing.T) {
	e := newEnv(t, fake.Options{})
	// Delete acme/ledger once the collector has listed it and starts on its runs.
	var once sync.Once
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/acme/ledger/actions/runs") {
			once.Do(func() { e.fake.DeleteRepo("acme/ledger") })
		}
		e.fake.ServeHTTP(w, r)
	})
	c := e.collector(t)
	snap, err := c.Sync(context.Background())
	if err != nil {
		t.Fatalf("a deleted repository must not fail the sync: %v", err)
	}
	for _, d := range snap.DORA.Deployments {
		if d.Service == "acme/ledger" {
			t.Fatal("deleted repository still has deployments")
		}
	}
	for _, cn := range snap.Counts {
		if cn.Service == "acme/ledger" {
			t.Fatalf("deleted repository still counted: %+v", cn)
		}
	}
	if len(snap.DORA.Deployments) == 0 {
		t.Error("the other repositories lost their data")
	}
}

func TestTokenWithoutSecurityPermissions(t *testing.T) {
	opts := fake.DemoOptions(1, since0, nil)
	opts.SecurityForbidden = true
	e := newEnv(t, opts)
	snap, err := e.collector(t).Sync(context.Background())
	if err != nil {
		t.Fatalf("missing security permissions must not fail the sync: %v", err)
	}
	for _, o := range snap.Observations {
		if strings.Contains(o.KPI, "vulnerability") {
			t.Fatalf("vulnerability KPI present without permission: %+v", o)
		}
	}
	for _, cn := range snap.Counts {
		if cn.KPI == "open_critical_vulnerabilities" {
			t.Fatalf("open criticals counted without permission: %+v", cn)
		}
	}
	if len(snap.DORA.Deployments) == 0 || len(snap.Counts) == 0 {
		t.Error("the rest of the KPIs must still be produced")
	}
	if v := metricValue(t, snap.Metrics, "ztmm_github_security_alerts_unavailable_repositories"); v != 12 {
		t.Errorf("unavailable repositories = %v, want 12", v)
	}
}

func TestPaginationMatchesSinglePage(t *testing.T) {
	// A long history (dozens of pages of deployments, runs and issues; compares past 250 commits for the
	// slow team) must give the same events whatever the page boundaries.
	e := newEnv(t, fake.Options{})
	snap, err := e.collector(t).Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, d := range snap.DORA.Deployments {
		key := d.Service + "#" + d.ID
		if ids[key] {
			t.Fatalf("deployment %s listed twice", key)
		}
		ids[key] = true
	}
	maxChanges := 0
	for _, d := range snap.DORA.Deployments {
		maxChanges = max(maxChanges, len(d.Changes))
	}
	if maxChanges == 0 {
		t.Error("no deployment carries changes")
	}
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	return gathered(t, g, name, labels)
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	return gathered(t, g, name, labels)
}

func gathered(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	return 0
}

// metricValue is the value of the first sample of family name among ms.
func metricValue(t *testing.T, ms []prometheus.Metric, name string) float64 {
	t.Helper()
	for _, m := range ms {
		if !strings.Contains(m.Desc().String(), `"`+name+`"`) {
			continue
		}
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		if pb.Gauge != nil {
			return pb.Gauge.GetValue()
		}
		return pb.Counter.GetValue()
	}
	t.Fatalf("no %s in the snapshot's metrics", name)
	return 0
}
