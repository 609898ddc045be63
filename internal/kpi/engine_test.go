package kpi

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// testConfig has two teams whose services live on both hosts: GitHub repositories (acme/…) and GitLab
// projects (group/project), so team scopes pool across sources.
func testConfig() *config.Config {
	return &config.Config{
		Organization:      "Acme",
		Window:            config.Duration(30 * day),
		AttributionWindow: config.DefaultAttributionWindow,
		Teams: []config.Team{
			{Name: "payments", Services: config.Globs{"acme/checkout", "acme/pay-*", "payments-group/*"}},
			{Name: "platform", Services: config.Globs{"platform/*"}},
		},
	}
}

// key names a sample as kpi{team,service} so a failing test prints readable differences.
func key(kpi, team, service string) string { return fmt.Sprintf("%s{%s,%s}", kpi, team, service) }

// valuesOf returns the samples of the given KPIs, keyed by scope.
func valuesOf(res *Result, kpis ...string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range res.Samples {
		if slices.Contains(kpis, s.KPI.ID) {
			out[key(s.KPI.ID, s.Team, s.Service)] = s.Value
		}
	}
	return out
}

func diff(got, want map[string]float64) string {
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "  %s: absent, want %v\n", k, w)
		case !wok:
			fmt.Fprintf(&b, "  %s: %v, want absent\n", k, g)
		case math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)):
			fmt.Fprintf(&b, "  %s: %v, want %v\n", k, g, w)
		}
	}
	return b.String()
}

func obs(kpi, service string, at time.Time, v float64) collectors.Observation {
	return collectors.Observation{KPI: kpi, Service: service, Time: at, Value: v}
}

func count(kpi, service string, num, den float64) collectors.Count {
	return collectors.Count{KPI: kpi, Service: service, Numerator: num, Denominator: den}
}

func TestCompute(t *testing.T) {
	const (
		vrt   = "vulnerability_resolution_time" // median, per service
		ivt   = "identity_verification_time"    // p95, organization only
		ecr   = "endpoint_compliance_rate"      // pooled ratio
		mfa   = "mfa_coverage"                  // pooled ratio
		ocv   = "open_critical_vulnerabilities" // gauge
		idr   = "identity_incident_reduction"   // reduction
		ues   = "user_experience_score"         // latest, manual only
		avail = "application_availability"      // latest, PromQL only
	)
	from := now.Add(-30 * day)
	tests := []struct {
		name  string
		cfg   func(*config.Config)
		snaps []*collectors.Snapshot
		kpis  []string
		want  map[string]float64
	}{
		{
			name: "team and organization medians pool every observation, not the services' medians",
			snaps: []*collectors.Snapshot{
				{Observations: []collectors.Observation{
					obs(vrt, "acme/checkout", now.Add(-time.Hour), 10),
					obs(vrt, "acme/checkout", now.Add(-2*time.Hour), 20),
					obs(vrt, "acme/checkout", now.Add(-3*time.Hour), 30),
					obs(vrt, "acme/pay-api", now.Add(-time.Hour), 100),
				}},
				{Observations: []collectors.Observation{
					obs(vrt, "platform/runner", now.Add(-time.Hour), 1000),
					obs(vrt, "platform/runner", now.Add(-time.Hour), 2000),
				}},
			},
			kpis: []string{vrt},
			want: map[string]float64{
				key(vrt, "", ""):                        65, // median of all six; the median of medians would be 100
				key(vrt, "payments", ""):                25, // median of 10,20,30,100; of medians 60
				key(vrt, "platform", ""):                1500,
				key(vrt, "payments", "acme/checkout"):   20,
				key(vrt, "payments", "acme/pay-api"):    100,
				key(vrt, "platform", "platform/runner"): 1500,
			},
		},
		{
			name: "window is open at now−window and closed at now",
			snaps: []*collectors.Snapshot{{Observations: []collectors.Observation{
				obs(vrt, "acme/checkout", from, 1),                  // exactly at the window's start: out
				obs(vrt, "acme/checkout", from.Add(time.Second), 2), // in
				obs(vrt, "acme/checkout", now, 3),                   // exactly now: in
				obs(vrt, "acme/checkout", now.Add(time.Second), 4),  // future: out
			}}},
			kpis: []string{vrt},
			want: map[string]float64{
				key(vrt, "", ""):                      2.5,
				key(vrt, "payments", ""):              2.5,
				key(vrt, "payments", "acme/checkout"): 2.5,
			},
		},
		{
			name: "a service's observations outside the window leave the service known but without a value",
			snaps: []*collectors.Snapshot{{Observations: []collectors.Observation{
				obs(vrt, "acme/checkout", from.Add(-day), 1),
			}}},
			kpis: []string{vrt},
			want: map[string]float64{},
		},
		{
			name: "p95 interpolates; observations without a service count for the organization only",
			snaps: []*collectors.Snapshot{{Observations: func() []collectors.Observation {
				var out []collectors.Observation
				for i := 20; i >= 1; i-- {
					out = append(out, obs(ivt, "", now.Add(-time.Duration(i)*time.Minute), float64(i)))
				}
				return out
			}()}},
			kpis: []string{ivt},
			want: map[string]float64{key(ivt, "", ""): 19.05}, // rank 0.95·19 = 18.05 between 19 and 20
		},
		{
			name: "pooled ratio is sum of numerators over sum of denominators",
			snaps: []*collectors.Snapshot{
				{Counts: []collectors.Count{count(ecr, "acme/checkout", 99, 100), count(ecr, "acme/pay-api", 0, 1)}},
				{Counts: []collectors.Count{count(ecr, "platform/runner", 50, 50)}},
			},
			kpis: []string{ecr},
			want: map[string]float64{
				key(ecr, "", ""):                        149.0 / 151,
				key(ecr, "payments", ""):                99.0 / 101, // the mean of the two ratios would be 0.495
				key(ecr, "platform", ""):                1,
				key(ecr, "payments", "acme/checkout"):   0.99,
				key(ecr, "payments", "acme/pay-api"):    0,
				key(ecr, "platform", "platform/runner"): 1,
			},
		},
		{
			name: "pooled ratio with a zero denominator is absent, not 0 or NaN",
			snaps: []*collectors.Snapshot{{Counts: []collectors.Count{
				count(mfa, "", 0, 0),
				count(ecr, "acme/checkout", 0, 0),
				count(ecr, "platform/runner", 5, 10),
			}}},
			kpis: []string{mfa, ecr},
			want: map[string]float64{
				key(ecr, "", ""):                        0.5,
				key(ecr, "platform", ""):                0.5,
				key(ecr, "platform", "platform/runner"): 0.5,
			},
		},
		{
			name: "gauge sums the scope's counts and a counted 0 is a true 0",
			snaps: []*collectors.Snapshot{
				{Counts: []collectors.Count{count(ocv, "acme/checkout", 2, 0), count(ocv, "acme/pay-api", 3, 0)}},
				{Counts: []collectors.Count{count(ocv, "platform/runner", 0, 0)}},
			},
			kpis: []string{ocv},
			want: map[string]float64{
				key(ocv, "", ""):                        5,
				key(ocv, "payments", ""):                5,
				key(ocv, "platform", ""):                0,
				key(ocv, "payments", "acme/checkout"):   2,
				key(ocv, "payments", "acme/pay-api"):    3,
				key(ocv, "platform", "platform/runner"): 0,
			},
		},
		{
			name: "reduction is organization-wide against the baseline",
			cfg:  func(c *config.Config) { c.Baselines = map[string]float64{idr: 10} },
			snaps: []*collectors.Snapshot{{DORA: dora.Input{Incidents: []dora.Incident{
				{Service: "acme/checkout", Opened: now.Add(-day), Pillar: catalog.Identities},
				{Opened: now.Add(-2 * day), Pillar: catalog.Identities, Security: true},
				{Opened: from.Add(-day), Pillar: catalog.Identities}, // before the window
				{Opened: now.Add(-day), Pillar: catalog.Network},     // another pillar
			}}}},
			kpis: []string{idr},
			want: map[string]float64{key(idr, "", ""): 0.8},
		},
		{
			name:  "reduction with a baseline and no incidents is a full reduction",
			cfg:   func(c *config.Config) { c.Baselines = map[string]float64{idr: 10} },
			snaps: []*collectors.Snapshot{{}},
			kpis:  []string{idr},
			want:  map[string]float64{key(idr, "", ""): 1},
		},
		{
			name: "reduction without a baseline is absent",
			snaps: []*collectors.Snapshot{{DORA: dora.Input{Incidents: []dora.Incident{
				{Opened: now.Add(-day), Pillar: catalog.Identities},
			}}}},
			kpis: []string{idr},
			want: map[string]float64{},
		},
		{
			name: "explicit values win over computed ones for the same scope and carry the service's team",
			snaps: []*collectors.Snapshot{
				{Observations: []collectors.Observation{
					obs(vrt, "acme/checkout", now.Add(-time.Hour), 10),
					obs(vrt, "acme/checkout", now.Add(-time.Hour), 30),
				}},
				{Kind: "promql", Time: now, Values: []collectors.Value{
					{KPI: vrt, Service: "acme/checkout", Value: 5},
					{KPI: vrt, Value: 7},
				}},
			},
			kpis: []string{vrt},
			want: map[string]float64{
				key(vrt, "", ""):                      7,  // explicit
				key(vrt, "payments", ""):              20, // computed: nothing explicit for the team
				key(vrt, "payments", "acme/checkout"): 5,  // explicit, with the configured team
			},
		},
		{
			name: "the latest explicit value of a scope wins whatever the snapshot order",
			snaps: []*collectors.Snapshot{
				{Kind: "manual", Values: []collectors.Value{{KPI: ues, Value: 4.9, Time: now.Add(-time.Hour)}}},
				{Kind: "manual", Values: []collectors.Value{{KPI: ues, Value: 4.1, Time: now.Add(-2 * day)}}},
				{Kind: "promql", Time: now.Add(-3 * day), Values: []collectors.Value{{KPI: ues, Value: 3}}}, // time from the snapshot
			},
			kpis: []string{ues},
			want: map[string]float64{key(ues, "", ""): 4.9},
		},
		{
			name: "explicit values keep scopes ztmm does not know",
			snaps: []*collectors.Snapshot{{Values: []collectors.Value{
				{KPI: avail, Team: "security", Value: 0.9995},
				{KPI: avail, Service: "other/thing", Value: 0.99},
			}}},
			kpis: []string{avail},
			want: map[string]float64{
				key(avail, "security", ""):    0.9995,
				key(avail, "", "other/thing"): 0.99,
				key(avail, "", ""):            0.99, // the mean over the organization's reported services
			},
		},
		{
			name: "a reported KPI with only per-service values gets team and organization means",
			snaps: []*collectors.Snapshot{{Values: []collectors.Value{
				{KPI: avail, Service: "acme/checkout", Value: 0.9990},
				{KPI: avail, Service: "acme/pay-gateway", Value: 0.9970},
				{KPI: avail, Service: "other/thing", Value: 0.9950},
				{KPI: avail, Team: "payments", Value: 0.5}, // reported for the team: wins over the mean
			}}},
			kpis: []string{avail},
			want: map[string]float64{
				key(avail, "payments", "acme/checkout"):    0.9990,
				key(avail, "payments", "acme/pay-gateway"): 0.9970,
				key(avail, "", "other/thing"):              0.9950,
				key(avail, "payments", ""):                 0.5,
				key(avail, "", ""):                         (0.9990 + 0.9970 + 0.9950) / 3,
			},
		},
		{
			name: "a service series carries the configured team even when the source names another",
			snaps: []*collectors.Snapshot{
				{Observations: []collectors.Observation{obs(vrt, "acme/checkout", now.Add(-time.Hour), 10)}},
				{Values: []collectors.Value{{KPI: vrt, Team: "legacy-team", Service: "acme/checkout", Value: 5}}},
			},
			kpis: []string{vrt},
			want: map[string]float64{
				key(vrt, "", ""):                      10,
				key(vrt, "payments", ""):              10,
				key(vrt, "payments", "acme/checkout"): 5, // one series for the service, not one per team label
			},
		},
		{
			name: "a KPI's own window overrides the default window",
			cfg: func(c *config.Config) {
				c.Targets = map[string]config.KPIOverride{vrt: {Window: config.Duration(7 * day)}}
			},
			snaps: []*collectors.Snapshot{{Observations: []collectors.Observation{
				obs(vrt, "", now.Add(-10*day), 1), // outside 7d
				obs(vrt, "", now.Add(-day), 3),
				obs("application_vulnerability_resolution_time", "", now.Add(-10*day), 4), // default 30d: inside
			}}},
			kpis: []string{vrt, "application_vulnerability_resolution_time"},
			want: map[string]float64{
				key(vrt, "", ""): 3,
				key("application_vulnerability_resolution_time", "", ""): 4,
			},
		},
		{
			name:  "absent data gives no sample in any scope",
			cfg:   func(c *config.Config) {},
			snaps: []*collectors.Snapshot{{}, {Kind: "github"}},
			kpis:  catalog.Default().KPIIDs(),
			want:  map[string]float64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			res, analysis := Compute(catalog.Default(), cfg, tt.snaps, now)
			if analysis == nil {
				t.Fatal("Compute returned no DORA analysis")
			}
			if d := diff(valuesOf(res, tt.kpis...), tt.want); d != "" {
				t.Errorf("samples differ:\n%s", d)
			}
			for _, s := range res.Samples {
				if s.Service != "" && cfg.TeamOf(s.Service) != "" && s.Team != cfg.TeamOf(s.Service) {
					t.Errorf("%s: team %q, want the service's configured team %q", key(s.KPI.ID, s.Team, s.Service), s.Team, cfg.TeamOf(s.Service))
				}
			}
		})
	}
}

func TestComputeTargets(t *testing.T) {
	const vrt = "vulnerability_resolution_time" // document: < 14400 s
	snaps := []*collectors.Snapshot{{Observations: []collectors.Observation{obs(vrt, "", now.Add(-time.Hour), 20)}}}
	q := func(v float64) *config.Quantity { return &config.Quantity{Value: v, Kind: "number"} }
	tests := []struct {
		name       string
		override   *config.KPIOverride
		wantOp     catalog.Op
		wantTarget float64
		wantMet    bool
	}{
		{name: "document target", wantOp: catalog.LT, wantTarget: 14400, wantMet: true},
		{name: "value override keeps the document's operator", override: &config.KPIOverride{Value: q(10)}, wantOp: catalog.LT, wantTarget: 10, wantMet: false},
		{name: "operator and value override", override: &config.KPIOverride{Op: catalog.LE, Value: q(20)}, wantOp: catalog.LE, wantTarget: 20, wantMet: true},
		{name: "operator override alone keeps the document's target", override: &config.KPIOverride{Op: catalog.GT}, wantOp: catalog.GT, wantTarget: 14400, wantMet: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.override != nil {
				cfg.Targets = map[string]config.KPIOverride{vrt: *tt.override}
			}
			res, _ := Compute(catalog.Default(), cfg, snaps, now)
			s, ok := res.Org(vrt)
			if !ok {
				t.Fatalf("no organization sample of %s", vrt)
			}
			if s.Op != tt.wantOp || s.Target != tt.wantTarget || s.Met != tt.wantMet {
				t.Errorf("got op %s target %v met %v, want op %s target %v met %v", s.Op, s.Target, s.Met, tt.wantOp, tt.wantTarget, tt.wantMet)
			}
			// The catalog's own target stays the document's: overrides live in the sample only.
			if s.KPI.Target != 14400 {
				t.Errorf("sample's catalog KPI target changed to %v", s.KPI.Target)
			}
		})
	}
}

// TestComputeDORA runs a small release history of three services through dora.Analyze: two services of
// team payments on different hosts (a GitHub repository and a GitLab project, in two snapshots) and one
// of team platform. Team values pool the team's events over both hosts.
func TestComputeDORA(t *testing.T) {
	change := func(d time.Time, lead time.Duration) dora.Change {
		return dora.Change{SHA: fmt.Sprint(lead), AuthorTime: d.Add(-lead)}
	}
	dep := func(service, id string, at time.Time, st dora.CompareStatus, leads ...time.Duration) dora.Deployment {
		d := dora.Deployment{Service: service, ID: id, SHA: id, Time: at, Status: st}
		for _, l := range leads {
			d.Changes = append(d.Changes, change(at, l))
		}
		return d
	}
	github := &collectors.Snapshot{Kind: "github", DORA: dora.Input{
		Deployments: []dora.Deployment{
			dep("acme/checkout", "1", now.Add(-10*day), dora.First, time.Hour),
			dep("acme/checkout", "2", now.Add(-5*day), dora.Ahead, 2*time.Hour, 3*time.Hour),
		},
		Attempts: []dora.Attempt{
			{Service: "acme/checkout", Time: now.Add(-10 * day), Success: true},
			{Service: "acme/checkout", Time: now.Add(-6 * day), Success: false},
			{Service: "acme/checkout", Time: now.Add(-5 * day), Success: true},
		},
	}}
	gitlab := &collectors.Snapshot{Kind: "gitlab", DORA: dora.Input{
		Deployments: []dora.Deployment{
			dep("payments-group/ledger", "10", now.Add(-8*day), dora.First, 10*time.Minute),
			dep("payments-group/ledger", "11", now.Add(-2*day), dora.Behind), // rolls back 10: 10 failed
			dep("platform/runner", "20", now.Add(-3*day), dora.First, time.Minute),
		},
	}}
	const (
		df   = "deployment_frequency"
		lt   = "lead_time_for_changes"
		cfr  = "change_failure_rate"
		mttr = "mean_time_to_recovery"
		asr  = "automation_success_rate"
	)
	h := time.Hour.Seconds()
	want := map[string]float64{
		key(df, "", ""):                                5.0 / 30,
		key(df, "payments", ""):                        4.0 / 30,
		key(df, "platform", ""):                        1.0 / 30,
		key(df, "payments", "acme/checkout"):           2.0 / 30,
		key(df, "payments", "payments-group/ledger"):   2.0 / 30,
		key(df, "platform", "platform/runner"):         1.0 / 30,
		key(lt, "", ""):                                h,          // median of 1m, 10m, 1h, 2h, 3h
		key(lt, "payments", ""):                        1.5 * h,    // median of 10m, 1h, 2h, 3h; of service medians 1h5m
		key(lt, "platform", ""):                        60,         // 1m
		key(lt, "payments", "acme/checkout"):           2 * h,      // median of 1h, 2h, 3h
		key(lt, "payments", "payments-group/ledger"):   600,        // the rollback brings no changes
		key(lt, "platform", "platform/runner"):         60,         //
		key(cfr, "", ""):                               1.0 / 5,    // ledger's first deployment was rolled back
		key(cfr, "payments", ""):                       1.0 / 4,    //
		key(cfr, "platform", ""):                       0,          //
		key(cfr, "payments", "acme/checkout"):          0,          //
		key(cfr, "payments", "payments-group/ledger"):  1.0 / 2,    //
		key(cfr, "platform", "platform/runner"):        0,          //
		key(mttr, "", ""):                              6 * 24 * h, // rollback time − failed deployment time
		key(mttr, "payments", ""):                      6 * 24 * h,
		key(mttr, "payments", "payments-group/ledger"): 6 * 24 * h,
		key(asr, "", ""):                               2.0 / 3,
		key(asr, "payments", ""):                       2.0 / 3,
		key(asr, "payments", "acme/checkout"):          2.0 / 3,
	}
	for _, order := range [][]*collectors.Snapshot{{github, gitlab}, {gitlab, github}} {
		res, _ := Compute(catalog.Default(), testConfig(), order, now)
		if d := diff(valuesOf(res, df, lt, cfr, mttr, asr), want); d != "" {
			t.Errorf("snapshots %s, %s: samples differ:\n%s", order[0].Kind, order[1].Kind, d)
		}
	}
}

func TestComputeSamplesAreOrdered(t *testing.T) {
	snaps := []*collectors.Snapshot{{Counts: []collectors.Count{
		count("open_critical_vulnerabilities", "platform/runner", 1, 0),
		count("open_critical_vulnerabilities", "acme/checkout", 1, 0),
		count("endpoint_compliance_rate", "acme/checkout", 1, 1),
	}, Values: []collectors.Value{ // scopes ztmm does not know come from a map: its order is random
		{KPI: "application_availability", Team: "zeta", Value: 1},
		{KPI: "application_availability", Team: "alpha", Value: 1},
		{KPI: "application_availability", Team: "mu", Value: 1},
		{KPI: "application_availability", Service: "x/y", Value: 1},
	}}}
	res, _ := Compute(catalog.Default(), testConfig(), snaps, now)
	if !sort.SliceIsSorted(res.Samples, func(i, j int) bool {
		a, b := res.Samples[i], res.Samples[j]
		if a.KPI.ID != b.KPI.ID {
			return a.KPI.ID < b.KPI.ID
		}
		if a.Team != b.Team {
			return a.Team < b.Team
		}
		return a.Service < b.Service
	}) {
		t.Error("samples are not ordered by KPI, team, service: the exposition would change order between runs")
	}
	if !res.Time.Equal(now) {
		t.Errorf("result time %v, want %v", res.Time, now)
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		vs   []float64
		q    float64
		want float64
	}{
		{[]float64{7}, 0.5, 7},
		{[]float64{7}, 0.95, 7},
		{[]float64{1, 2}, 0.5, 1.5},
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{4, 1, 3, 2}, 0.5, 2.5},
		{[]float64{4, 1, 3, 2}, 0.95, 3.85}, // rank 2.85
		{[]float64{4, 1, 3, 2}, 0, 1},
		{[]float64{4, 1, 3, 2}, 1, 4},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.vs)
		if got := Quantile(in, tt.q); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", tt.vs, tt.q, got, tt.want)
		}
		if !slices.Equal(in, tt.vs) {
			t.Errorf("Quantile modified its input: %v, was %v", in, tt.vs)
		}
	}
}

func TestStatistic(t *testing.T) {
	tests := []struct {
		stat   catalog.Statistic
		vs     []float64
		want   float64
		wantOK bool
	}{
		{catalog.Median, nil, 0, false},
		{catalog.Mean, nil, 0, false},
		{catalog.P95, nil, 0, false},
		{catalog.Median, []float64{1, 2, 6}, 2, true},
		{catalog.Mean, []float64{1, 2, 6}, 3, true},
		{catalog.P95, []float64{1, 2, 6}, 5.6, true}, // rank 1.9
	}
	for _, tt := range tests {
		got, ok := statistic(tt.stat, tt.vs)
		if ok != tt.wantOK || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("statistic(%s, %v) = %v, %v; want %v, %v", tt.stat, tt.vs, got, ok, tt.want, tt.wantOK)
		}
	}
}
