package gitlab

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
	fake "github.com/ztmm/ztmm/internal/fakes/gitlab"
)

var (
	testNow   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testSince = testNow.Add(-20 * 24 * time.Hour)
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type env struct {
	fake  *fake.Server
	clock *clock
	url   string
	logs  *bytes.Buffer
}

func newEnv(t *testing.T, opts fake.Options) *env {
	t.Helper()
	clk := &clock{t: testNow}
	if opts.Projects == nil {
		opts.Projects = fake.DemoProjects()
	}
	opts.Start, opts.Now, opts.Seed = testSince, clk.now, 7
	if opts.RateLimit == 0 {
		opts.RateLimit = 1_000_000
	}
	f := fake.New(opts)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &env{fake: f, clock: clk, url: srv.URL, logs: &bytes.Buffer{}}
}

func (e *env) collector(t *testing.T, cfg config.GitLab, tel *collectors.Telemetry) *Collector {
	t.Helper()
	cfg.BaseURL = e.url + "/"
	if cfg.Groups == nil && cfg.Projects == nil {
		cfg.Groups = []string{"mobile", "logistics"}
	}
	c, err := New(cfg, testSince, func(s string) string { return strings.Split(s, "/")[0] }, tel,
		slog.New(slog.NewTextHandler(e.logs, nil)), WithClock(e.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func syncOK(t *testing.T, c *Collector) *collectors.Snapshot {
	t.Helper()
	snap, err := c.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func services(snap *collectors.Snapshot) map[string]int {
	out := map[string]int{}
	for _, d := range snap.DORA.Deployments {
		out[d.Service]++
	}
	return out
}

func TestProjectsFromGroupsAndList(t *testing.T) {
	t.Parallel()
	projects := append(fake.DemoProjects(),
		fake.Project{Path: "logistics/old", Archived: true, Profile: fake.Good()},
		fake.Project{Path: "logistics/sub/router", Profile: fake.Good()},
		fake.Project{Path: "other/tool", Profile: fake.Good()})
	tests := []struct {
		name string
		cfg  config.GitLab
		want []string
	}{
		{"groups include subgroups, skip archived", config.GitLab{Groups: []string{"logistics"}},
			[]string{"logistics/iac", "logistics/shipping", "logistics/sub/router", "logistics/warehouse"}},
		{"include and exclude globs", config.GitLab{Groups: []string{"logistics", "mobile"}, Include: config.Globs{"logistics/*", "mobile/ios-*"}, Exclude: config.Globs{"logistics/iac"}},
			[]string{"logistics/shipping", "logistics/warehouse", "mobile/ios-app"}},
		{"explicit list", config.GitLab{Projects: []string{"other/tool", "mobile/android-app"}},
			[]string{"mobile/android-app", "other/tool"}},
		{"explicit archived project skipped", config.GitLab{Projects: []string{"logistics/old", "other/tool"}},
			[]string{"other/tool"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// MaxPerPage 2 forces the group listing through several pages.
			e := newEnv(t, fake.Options{Projects: projects, MaxPerPage: 2})
			c := e.collector(t, tt.cfg, nil)
			paths, err := c.discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(paths, ",") != strings.Join(tt.want, ",") {
				t.Errorf("projects = %v, want %v", paths, tt.want)
			}
		})
	}
}

func TestKeysetPaginationOfJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[2:3], MaxPerPage: 5})
	c := e.collector(t, config.GitLab{Projects: []string{"logistics/shipping"}}, nil)
	snap := syncOK(t, c)
	scans := 0
	for _, o := range snap.Observations {
		if o.KPI == scanKPI {
			scans++
		}
	}
	// Two scan jobs per deployment attempt (canceled ones included: their scans succeeded).
	if want := 2 * (len(snap.DORA.Attempts) + cancelled(e, t)); scans != want {
		t.Errorf("scan observations = %d, want %d", scans, want)
	}
	if n := e.fake.Requests("cursor="); n < 10 {
		t.Errorf("keyset pages requested = %d, want many (the job list spans pages of 5)", n)
	}
	if n := e.fake.Requests("/jobs?"); n != e.fake.Requests("pagination=keyset&per_page=") {
		t.Errorf("some job listings did not use keyset pagination")
	}
}

// cancelled counts canceled production deployments through the fake's REST API.
func cancelled(e *env, t *testing.T) int {
	t.Helper()
	n, page := 0, int64(1)
	for {
		resp, err := http.Get(e.url + "/api/v4/projects/logistics%2Fshipping/deployments?status=canceled&per_page=100&page=" + itoa(page))
		if err != nil {
			t.Fatal(err)
		}
		var body []byte
		body, _ = ioReadAll(resp)
		n += strings.Count(string(body), `"status":"canceled","tag"`)
		if resp.Header.Get("X-Next-Page") == "" {
			return n
		}
		page++
	}
}

func TestDeploymentNormalisation(t *testing.T) {
	t.Parallel()
	// The production environment is called "live": only its tier (environments API) makes it production.
	p := fake.DemoProjects()[0]
	p.ProductionEnvironment = "live"
	e := newEnv(t, fake.Options{Projects: []fake.Project{p}})
	c := e.collector(t, config.GitLab{Projects: []string{p.Path}}, nil)
	snap := syncOK(t, c)

	raw := fetchDeployments(t, e, p.Path)
	var success, finished, failed, canceled, staging, manual int
	byID := map[string]rawDeployment{}
	for _, d := range raw {
		byID[itoa(d.ID)] = d
		if d.Environment.Name == "staging" {
			staging++
			continue
		}
		switch d.Status {
		case "success":
			success++
			finished++
		case "failed":
			failed++
			finished++
		case "canceled":
			canceled++
		}
	}
	if staging == 0 || failed == 0 || canceled == 0 {
		t.Fatalf("fake history lacks staging/failed/canceled deployments (%d/%d/%d): the test would prove nothing", staging, failed, canceled)
	}
	if len(snap.DORA.Deployments) != success {
		t.Errorf("deployments = %d, want the %d successful ones to the tier-production environment", len(snap.DORA.Deployments), success)
	}
	if len(snap.DORA.Attempts) != finished {
		t.Errorf("attempts = %d, want %d (success + failed; canceled is not finished)", len(snap.DORA.Attempts), finished)
	}
	for _, d := range snap.DORA.Deployments {
		r := byID[d.ID]
		if !d.Time.Equal(r.Deployable.FinishedAt) || d.Time.Equal(r.CreatedAt) {
			t.Errorf("deployment %s time = %s, want the deploy job's finished_at %s", d.ID, d.Time, r.Deployable.FinishedAt)
		}
		if d.Manual {
			manual++
		}
	}
	if manual == 0 || manual == len(snap.DORA.Deployments) {
		t.Errorf("manual deployments = %d of %d, want some but not all (from GraphQL CiJob.manualJob)", manual, len(snap.DORA.Deployments))
	}
	if e.fake.Requests("/api/graphql") == 0 {
		t.Error("no GraphQL request: manual flags cannot be known from REST")
	}
	statuses := map[dora.CompareStatus]int{}
	for _, d := range snap.DORA.Deployments {
		statuses[d.Status]++
		if d.Status == dora.Ahead && len(d.Changes) == 0 {
			t.Errorf("deployment %s ahead without changes", d.ID)
		}
		if d.Status == dora.Behind && len(d.Changes) != 0 {
			t.Errorf("rollback %s carries changes", d.ID)
		}
	}
	if statuses[dora.First] != 1 || statuses[dora.Behind] == 0 || statuses[dora.Ahead] == 0 {
		t.Errorf("compare statuses = %v, want one first, some ahead and some behind (rollbacks)", statuses)
	}
}

type rawDeployment struct {
	ID          int64     `json:"id"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	Environment struct {
		Name string `json:"name"`
	} `json:"environment"`
	Deployable struct {
		FinishedAt time.Time `json:"finished_at"`
	} `json:"deployable"`
}

func fetchDeployments(t *testing.T, e *env, path string) []rawDeployment {
	t.Helper()
	var out []rawDeployment
	for page := int64(1); ; page++ {
		resp, err := http.Get(e.url + "/api/v4/projects/" + strings.ReplaceAll(path, "/", "%2F") + "/deployments?per_page=100&page=" + itoa(page))
		if err != nil {
			t.Fatal(err)
		}
		var ds []rawDeployment
		if err := jsonDecode(resp, &ds); err != nil {
			t.Fatal(err)
		}
		out = append(out, ds...)
		if resp.Header.Get("X-Next-Page") == "" {
			return out
		}
	}
}

func TestIncrementalSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[2:3]})
	c := e.collector(t, config.GitLab{Projects: []string{"logistics/shipping"}}, nil)
	first := syncOK(t, c)
	compares := e.fake.Requests("/repository/compare")

	e.clock.t = testNow.Add(24 * time.Hour)
	second := syncOK(t, c)
	if len(second.DORA.Deployments) <= len(first.DORA.Deployments) {
		t.Errorf("deployments after a day = %d, want more than %d", len(second.DORA.Deployments), len(first.DORA.Deployments))
	}
	if len(services(second)) != 1 {
		t.Errorf("services = %v", services(second))
	}
	newPairs := len(second.DORA.Deployments) - len(first.DORA.Deployments)
	if got := e.fake.Requests("/repository/compare") - compares; got > newPairs {
		t.Errorf("compares in the second sync = %d, want at most one per new deployment (%d): old pairs are cached", got, newPairs)
	}
	if e.fake.Requests("updated_after=") == 0 {
		t.Error("deployments/issues were not listed with updated_after")
	}
	// Nothing changed: the third sync returns the same events.
	third := syncOK(t, c)
	if len(third.DORA.Deployments) != len(second.DORA.Deployments) || len(third.DORA.Incidents) != len(second.DORA.Incidents) ||
		len(third.DORA.Attempts) != len(second.DORA.Attempts) || len(third.Observations) != len(second.Observations) {
		t.Errorf("an unchanged upstream changed the snapshot: %d/%d/%d/%d → %d/%d/%d/%d",
			len(second.DORA.Deployments), len(second.DORA.Attempts), len(second.DORA.Incidents), len(second.Observations),
			len(third.DORA.Deployments), len(third.DORA.Attempts), len(third.DORA.Incidents), len(third.Observations))
	}
}

func TestUpstreamFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     fake.Fault
		wantRetry time.Duration // 0: not a RetryAfterError
		wantErr   string
	}{
		{"429 with Retry-After", fake.Fault{Path: "/deployments", Status: 429, RetryAfter: 42 * time.Second}, 42 * time.Second, "429"},
		{"5xx", fake.Fault{Path: "/issues", Status: 502}, 0, "502"},
		{"malformed JSON", fake.Fault{Path: "/deployments", Status: 200, Body: `[{"id": 1, "status": "succ`}, 0, "unexpected EOF"},
		{"GraphQL 5xx", fake.Fault{Path: "/api/graphql", Status: 500}, 0, "graphql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[:1]})
			reg := prometheus.NewRegistry()
			c := e.collector(t, config.GitLab{Projects: []string{"mobile/ios-app"}}, collectors.NewTelemetry(reg))
			e.fake.Inject(tt.fault)
			_, err := c.Sync(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
			var ra *collectors.RetryAfterError
			if got := errors.As(err, &ra); got != (tt.wantRetry > 0) || (got && ra.After != tt.wantRetry) {
				t.Errorf("RetryAfterError = %v (%v), want after %s", got, err, tt.wantRetry)
			}
			// client-go's retries are off: the failing request was sent exactly once.
			if n := e.fake.Requests(tt.fault.Path); n != 1 {
				t.Errorf("requests to %s = %d, want 1 (no hidden retries)", tt.fault.Path, n)
			}
			if code := itoa(int64(tt.fault.Status)); tt.fault.Status >= 400 && counter(t, reg, code) != 1 {
				t.Errorf("ztmm_upstream_requests_total{code=%q} != 1", code)
			}
			// The next sync after the fault succeeds.
			e.fake.ClearFaults()
			if _, err := c.Sync(context.Background()); err != nil {
				t.Errorf("sync after recovery: %v", err)
			}
		})
	}
}

func counter(t *testing.T, reg *prometheus.Registry, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ztmm_upstream_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "code") == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestRateLimitBudget(t *testing.T) {
	t.Parallel()
	// A budget of 40 per minute: the collector stops before spending GitLab's last 5 % and asks the
	// scheduler to come back at the reset, reporting the remaining budget on the way.
	e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[2:3], RateLimit: 40})
	reg := prometheus.NewRegistry()
	c := e.collector(t, config.GitLab{Projects: []string{"logistics/shipping"}}, collectors.NewTelemetry(reg))
	_, err := c.Sync(context.Background())
	var ra *collectors.RetryAfterError
	if !errors.As(err, &ra) {
		t.Fatalf("err = %v, want a RetryAfterError", err)
	}
	reset := testNow.Truncate(time.Minute).Add(time.Minute)
	if ra.After != reset.Sub(testNow) {
		t.Errorf("retry after %s, want %s (until RateLimit-Reset)", ra.After, reset.Sub(testNow))
	}
	if n := e.fake.Requests("/"); n >= 40 {
		t.Errorf("requests = %d, want fewer than the budget of 40", n)
	}
	if counter(t, reg, "429") != 0 {
		t.Error("the collector ran into 429s instead of stopping at the reserve")
	}
	got := gaugeValue(t, reg, "ztmm_upstream_rate_limit_remaining")
	if got != 1 {
		t.Errorf("ztmm_upstream_rate_limit_remaining = %v, want 1", got)
	}
	// After the reset the sync goes on where it stopped.
	e.clock.t = reset.Add(time.Second)
	for i := 0; i < 10; i++ {
		if _, err = c.Sync(context.Background()); err == nil {
			break
		}
		e.clock.t = e.clock.t.Add(time.Minute)
	}
	if err != nil {
		t.Errorf("never completed within the budget: %v", err)
	}
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func TestFreeTier(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[2:4], Free: true})
	c := e.collector(t, config.GitLab{Groups: []string{"logistics"}}, nil)
	snap := syncOK(t, c)
	for _, m := range metricsOf(snap) {
		if m.name == "ztmm_gitlab_dora_metric" || m.name == "ztmm_gitlab_open_vulnerabilities" {
			t.Errorf("%s present on GitLab Free: %v", m.name, m.labels)
		}
	}
	for _, cnt := range snap.Counts {
		if cnt.KPI == openCriticalKPI {
			t.Errorf("open_critical_vulnerabilities = %v on Free; want absent, not zero", cnt.Numerator)
		}
		if cnt.KPI == policyKPI && cnt.Numerator != 0 {
			t.Errorf("%s compliant on Free, where approval rules cannot be required", cnt.Service)
		}
	}
	if len(snap.DORA.Deployments) == 0 {
		t.Error("DORA events missing: a 403 on Ultimate endpoints must not fail the sync")
	}
	// Said once per project, not on every sync.
	syncOK(t, c)
	if n := strings.Count(e.logs.String(), "GitLab DORA API not available"); n != 2 {
		t.Errorf("DORA API unavailability logged %d times for 2 projects over 2 syncs, want 2:\n%s", n, e.logs)
	}
	if n := e.fake.Requests("/dora/metrics"); n != 2 {
		t.Errorf("DORA API requests = %d, want 2 (one per project, then never again)", n)
	}
}

func TestUltimateExtras(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fake.Options{})
	c := e.collector(t, config.GitLab{}, nil)
	snap := syncOK(t, c)
	dm := map[string]int{}
	policy := map[string]float64{}
	for _, m := range metricsOf(snap) {
		if m.name == "ztmm_gitlab_dora_metric" {
			dm[m.labels["metric"]]++
			if m.labels["team"] != strings.Split(m.labels["service"], "/")[0] {
				t.Errorf("team label %q for %q", m.labels["team"], m.labels["service"])
			}
		}
	}
	for _, k := range []string{"deployment_frequency", "lead_time_for_changes", "time_to_restore_service", "change_failure_rate"} {
		if dm[k] == 0 {
			t.Errorf("ztmm_gitlab_dora_metric{metric=%q} missing", k)
		}
	}
	for _, cnt := range snap.Counts {
		if cnt.KPI == policyKPI {
			policy[cnt.Service] = cnt.Numerator
		}
	}
	want := map[string]float64{"mobile/ios-app": 1, "mobile/android-app": 0, "logistics/shipping": 1, "logistics/warehouse": 1, "logistics/iac": 1}
	for s, v := range want {
		if policy[s] != v {
			t.Errorf("policy compliance of %s = %v, want %v", s, policy[s], v)
		}
	}
	kpis := map[string]int{}
	for _, o := range snap.Observations {
		kpis[o.KPI]++
	}
	for _, k := range []string{scanKPI, iacKPI, privilegedKPI, dataAccessKPI, appVulnKPI, vulnKPI} {
		if kpis[k] == 0 {
			t.Errorf("no %s observations", k)
		}
	}
	for _, o := range snap.Observations {
		if o.KPI == iacKPI && o.Service != "logistics/iac" {
			t.Errorf("IaC observation for %s", o.Service)
		}
	}
	pillars := 0
	for _, inc := range snap.DORA.Incidents {
		if inc.Pillar == "applications" {
			pillars++
		}
	}
	if len(snap.DORA.Incidents) == 0 || pillars != len(snap.DORA.Incidents) {
		t.Errorf("incidents = %d, with pillar applications %d", len(snap.DORA.Incidents), pillars)
	}
}

type metric struct {
	name   string
	labels map[string]string
	value  float64
}

func metricsOf(snap *collectors.Snapshot) []metric {
	var out []metric
	for _, m := range snap.Metrics {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			panic(err)
		}
		mm := metric{name: fqName(m.Desc()), labels: map[string]string{}, value: d.GetGauge().GetValue()}
		for _, l := range d.GetLabel() {
			mm.labels[l.GetName()] = l.GetValue()
		}
		out = append(out, mm)
	}
	return out
}

func fqName(d *prometheus.Desc) string {
	s := d.String()
	i := strings.Index(s, `fqName: "`)
	s = s[i+len(`fqName: "`):]
	return s[:strings.Index(s, `"`)]
}

func TestTokenFromFileNeverLogged(t *testing.T) {
	t.Parallel()
	const token = "glpat-supersecret-token-123"
	e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[:1], Token: token})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgYAML := "organization: Acme\nsince: " + testSince.Format("2006-01-02") + "\ngitlab:\n  - base_url: " + e.url + "/\n    token_file: token\n    projects: [mobile/ios-app]\n"
	if err := os.WriteFile(filepath.Join(dir, "ztmm.yaml"), []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "ztmm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Inject(fake.Fault{Path: "/issues", Status: 500, Times: 1})
	c, err := New(cfg.GitLab[0], testSince, nil, nil, slog.New(slog.NewTextHandler(e.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c.now = e.clock.now
	_, err1 := c.Sync(context.Background())
	snap, err2 := c.Sync(context.Background())
	if err2 != nil || len(snap.DORA.Deployments) == 0 {
		t.Fatalf("authenticated sync failed: %v", err2)
	}
	if err1 == nil || strings.Contains(err1.Error(), token) || strings.Contains(e.logs.String(), token) {
		t.Errorf("token leaked or fault not reported: err=%v logs=%s", err1, e.logs)
	}
}

func TestContextIsRespected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[:1]})
	c := e.collector(t, config.GitLab{Projects: []string{"mobile/ios-app"}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Sync(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := e.fake.Requests("/"); n != 0 {
		t.Errorf("%d requests sent on a cancelled context", n)
	}
}

func TestGraphQLErrorsFailTheSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fake.Options{Projects: fake.DemoProjects()[:1]})
	c := e.collector(t, config.GitLab{Projects: []string{"mobile/ios-app"}}, nil)
	// GraphQL reports errors in a 200 body; taking it for "no manual jobs" would hide manual releases.
	e.fake.Inject(fake.Fault{Path: "/api/graphql", Status: 200, Body: `{"data":{"project":null},"errors":[{"message":"Field 'manualJob' doesn't exist"}]}`})
	if _, err := c.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "manualJob") {
		t.Errorf("err = %v, want the GraphQL error", err)
	}
}

func TestRunningDeploymentCompletesInALaterSync(t *testing.T) {
	t.Parallel()
	script := &fake.Script{
		Commits: []fake.ScriptCommit{{Authored: testNow.Add(-3 * time.Hour)}, {Authored: testNow.Add(-time.Hour)}},
		Deployments: []fake.ScriptDeployment{
			{Commit: 0, Finished: testNow.Add(-2 * time.Hour), Status: "success"},
			// Its job started a minute ago and finishes in a minute.
			{Commit: 1, Finished: testNow.Add(time.Minute), Status: "success", Manual: true},
		},
	}
	e := newEnv(t, fake.Options{Projects: []fake.Project{{Path: "mobile/ios-app", Script: script}}})
	c := e.collector(t, config.GitLab{Projects: []string{"mobile/ios-app"}}, nil)
	if got := len(syncOK(t, c).DORA.Deployments); got != 1 {
		t.Fatalf("deployments while the second runs = %d, want 1", got)
	}
	e.clock.t = testNow.Add(5 * time.Minute)
	deps := syncOK(t, c).DORA.Deployments
	if len(deps) != 2 {
		t.Fatalf("deployments after it finished = %d, want 2", len(deps))
	}
	d := deps[1]
	if !d.Time.Equal(testNow.Add(time.Minute)) || !d.Manual || d.Status != dora.Ahead || len(d.Changes) != 1 {
		t.Errorf("completed deployment = %+v, want time %s, manual, ahead with 1 change", d, testNow.Add(time.Minute))
	}
}

func TestCentralIncidentProject(t *testing.T) {
	t.Parallel()
	script := &fake.Script{
		Commits: []fake.ScriptCommit{{Authored: testNow.Add(-48 * time.Hour)}},
		Incidents: []fake.ScriptIncident{
			{Opened: testNow.Add(-5 * time.Hour), Closed: testNow.Add(-4 * time.Hour), Labels: []string{"service:mobile/ios-app", "pillar:identities", "security"}},
			{Opened: testNow.Add(-3 * time.Hour), Labels: []string{"pillar:nonsense"}},
		},
	}
	e := newEnv(t, fake.Options{Projects: []fake.Project{{Path: "ops/incidents", Script: script}}})
	cfg := config.GitLab{Projects: []string{"ops/incidents"}}
	cfg.Incidents.Repositories = []string{"ops/incidents"}
	snap := syncOK(t, e.collector(t, cfg, nil))
	want := []dora.Incident{
		{Service: "mobile/ios-app", Opened: testNow.Add(-5 * time.Hour), Resolved: testNow.Add(-4 * time.Hour), Pillar: "identities", Security: true},
		{Service: "", Opened: testNow.Add(-3 * time.Hour)}, // unknown pillar: not attributed
	}
	if len(snap.DORA.Incidents) != len(want) {
		t.Fatalf("incidents = %+v", snap.DORA.Incidents)
	}
	for i, w := range want {
		g := snap.DORA.Incidents[i]
		if g.Service != w.Service || !g.Opened.Equal(w.Opened) || !g.Resolved.Equal(w.Resolved) || g.Pillar != w.Pillar || g.Security != w.Security {
			t.Errorf("incident %d = %+v, want %+v", i, g, w)
		}
	}
}
