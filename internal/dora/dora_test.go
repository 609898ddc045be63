package dora

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/ztmm/ztmm/internal/catalog"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	hour = 3600.0
	day  = 86400.0
	week = 7 * 24 * time.Hour
)

// d is t0 plus days (fractions allowed).
func d(days float64) time.Time { return t0.Add(time.Duration(days * float64(24*time.Hour))) }

// dep is a deployment of service s with the given compare status and changes authored at the given times.
func dep(s, id string, at time.Time, st CompareStatus, authored ...time.Time) Deployment {
	x := Deployment{Service: s, ID: id, SHA: "sha-" + id, Time: at, Status: st}
	for i, a := range authored {
		x.Changes = append(x.Changes, Change{SHA: fmt.Sprintf("c-%s-%d", id, i), AuthorTime: a})
	}
	return x
}

func all(string) bool { return true }

func only(names ...string) func(string) bool {
	return func(s string) bool { return slices.Contains(names, s) }
}

type valueCase struct {
	name     string
	in       Input
	kpi      string
	scope    func(string) bool // nil: organization
	from, to time.Time         // zero: (d(0), d(10)]
	want     float64
	ok       bool
}

func runValueCases(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			scope, from, to := c.scope, c.from, c.to
			if scope == nil {
				scope = all
			}
			if from.IsZero() && to.IsZero() {
				from, to = d(0), d(10)
			}
			got, ok := Analyze(c.in, week).Value(c.kpi, scope, from, to)
			if ok != c.ok || (ok && math.Abs(got-c.want) > 1e-9*math.Max(1, math.Abs(c.want))) {
				t.Errorf("Value(%s) = %v, %v; want %v, %v", c.kpi, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestChangesAndLeadTime(t *testing.T) {
	runValueCases(t, []valueCase{
		{name: "first deployment counts only its head commit as given",
			in:  Input{Deployments: []Deployment{dep("s", "1", d(1), First, d(0.5))}},
			kpi: leadTimeForChanges, want: 0.5 * day, ok: true},
		{name: "redeploy of the same SHA has no changes, even if the collector sent some",
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0.5)),
				dep("s", "2", d(2), Identical, d(0)),
			}},
			kpi: leadTimeForChanges, from: d(1.5), to: d(10), ok: false},
		{name: "rollback brings no changes",
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0.5)),
				dep("s", "2", d(2), Ahead, d(1.5)),
				dep("s", "3", d(3), Behind, d(0)),
			}},
			kpi: leadTimeForChanges, from: d(2.5), to: d(10), ok: false},
		{name: "roll-forward to a SHA deployed before the rollback carries its changes again",
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0.5)),
				dep("s", "2", d(2), Ahead, d(1.75)),
				dep("s", "3", d(3), Behind),
				dep("s", "4", d(4), Ahead, d(1.75)),
			}},
			kpi: leadTimeForChanges, from: d(3.5), to: d(10), want: 2.25 * day, ok: true},
		{name: "diverged deployment carries its ahead commits",
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0.5)),
				dep("s", "2", d(2), Diverged, d(1)),
			}},
			kpi: leadTimeForChanges, from: d(1.5), to: d(10), want: day, ok: true},
		{name: "squash commit keeps its old author time",
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0.5)),
				dep("s", "2", d(3), Ahead, d(-20)),
			}},
			kpi: leadTimeForChanges, from: d(2), to: d(10), want: 23 * day, ok: true},
		{name: "author time after the deployment (clock skew) counts as 0, not negative, not dropped",
			// leads {0, 1d}: median 0.5d. Dropped it would be 1d, negative (−0.5d) it would be 0.25d.
			in:  Input{Deployments: []Deployment{dep("s", "1", d(1), First, d(1.5), d(0))}},
			kpi: leadTimeForChanges, want: 0.5 * day, ok: true},
		{name: "team median is pooled over changes, not a median of service medians",
			// s1 {1h, 2h, 3h}, s2 {10h}: pooled median 2.5h; the median of medians would be 6h.
			// s3 is outside the team and would move the median if counted.
			in: Input{Deployments: []Deployment{
				dep("s1", "1", d(1), First, d(1).Add(-time.Hour), d(1).Add(-2*time.Hour), d(1).Add(-3*time.Hour)),
				dep("s2", "2", d(1), First, d(1).Add(-10*time.Hour)),
				dep("s3", "3", d(1), First, d(-100), d(-100), d(-100)),
			}},
			kpi: leadTimeForChanges, scope: only("s1", "s2"), want: 2.5 * hour, ok: true},
	})
}

func TestFailedDeploymentsAndRollbacks(t *testing.T) {
	inc := func(s string, opened time.Time) Incident { return Incident{Service: s, Opened: opened} }
	twoDeps := []Deployment{dep("s", "1", d(1), First, d(0)), dep("s", "2", d(3), Ahead, d(2))}
	runValueCases(t, []valueCase{
		{name: "rolled-back deployment is failed, the rollback is not",
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0)),
				dep("s", "2", d(2), Ahead, d(1)),
				dep("s", "3", d(3), Behind),
			}},
			kpi: changeFailureRate, want: 1.0 / 3, ok: true},
		{name: "only the rollback in the window: no failure",
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0)),
				dep("s", "2", d(2), Ahead, d(1)),
				dep("s", "3", d(3), Behind),
			}},
			kpi: changeFailureRate, from: d(2.5), to: d(10), want: 0, ok: true},
		{name: "roll-forward after a rollback is not a rollback",
			// If 4 were a rollback, 3 would be failed too: 2/4.
			in: Input{Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0)),
				dep("s", "2", d(2), Ahead, d(1)),
				dep("s", "3", d(3), Behind),
				dep("s", "4", d(4), Ahead, d(1)),
			}},
			kpi: changeFailureRate, want: 0.25, ok: true},
		{name: "incident inside the attribution window fails the deployment",
			in:  Input{Deployments: twoDeps, Incidents: []Incident{inc("s", d(2))}},
			kpi: changeFailureRate, want: 0.5, ok: true},
		{name: "incident opened at the deployment time is attributed to it",
			in:  Input{Deployments: twoDeps, Incidents: []Incident{inc("s", d(1))}},
			kpi: changeFailureRate, from: d(0), to: d(2), want: 1, ok: true},
		{name: "incident opened at the next deployment's time belongs to the next deployment, not this one",
			in:  Input{Deployments: twoDeps, Incidents: []Incident{inc("s", d(3))}},
			kpi: changeFailureRate, from: d(0), to: d(2), want: 0, ok: true},
		{name: "incident opened at the next deployment's time fails the next deployment",
			in:  Input{Deployments: twoDeps, Incidents: []Incident{inc("s", d(3))}},
			kpi: changeFailureRate, from: d(2), to: d(10), want: 1, ok: true},
		{name: "incident just before the end of the attribution window",
			in:  Input{Deployments: twoDeps[:1], Incidents: []Incident{inc("s", d(8).Add(-time.Second))}},
			kpi: changeFailureRate, want: 1, ok: true},
		{name: "incident exactly at the end of the attribution window is not attributed",
			in:  Input{Deployments: twoDeps[:1], Incidents: []Incident{inc("s", d(8))}},
			kpi: changeFailureRate, want: 0, ok: true},
		{name: "incident before the first deployment is not attributed",
			in:  Input{Deployments: twoDeps, Incidents: []Incident{inc("s", d(0.5))}},
			kpi: changeFailureRate, want: 0, ok: true},
		{name: "incident of another service is not attributed",
			in:  Input{Deployments: twoDeps, Incidents: []Incident{inc("other", d(2))}},
			kpi: changeFailureRate, want: 0, ok: true},
		{name: "no deployments in the window: absent, not 0",
			in:  Input{Deployments: twoDeps},
			kpi: changeFailureRate, from: d(5), to: d(10), ok: false},
	})
}

func TestRecovery(t *testing.T) {
	b := d(2)
	deps := []Deployment{
		dep("s", "1", d(1), First, d(0)),
		dep("s", "2", b, Ahead, d(1)),
		dep("s", "3", b.Add(30*time.Minute), Behind),
	}
	runValueCases(t, []valueCase{
		{name: "rollback without incident: rollback time − failed deployment time",
			in:  Input{Deployments: deps},
			kpi: meanTimeToRecovery, want: 1800, ok: true},
		{name: "rollback with an incident: the incident is the recovery, the rollback is not",
			// mean(30m, 1h) = 45m if the rollback were also counted.
			in: Input{Deployments: deps, Incidents: []Incident{
				{Service: "s", Opened: b.Add(10 * time.Minute), Resolved: b.Add(70 * time.Minute)},
			}},
			kpi: meanTimeToRecovery, want: hour, ok: true},
		{name: "rollback with an incident still open: no recovery yet",
			in:  Input{Deployments: deps, Incidents: []Incident{{Service: "s", Opened: b.Add(10 * time.Minute)}}},
			kpi: meanTimeToRecovery, ok: false},
		{name: "recoveries count in the window they complete in",
			in: Input{Incidents: []Incident{
				{Service: "s", Opened: d(-5), Resolved: d(1)}, // 6 d, completed inside
				{Service: "s", Opened: d(9), Resolved: d(11)}, // opened inside, completed after
			}},
			kpi: meanTimeToRecovery, want: 6 * day, ok: true},
		{name: "incident without a service counts for the organization",
			in: Input{Incidents: []Incident{
				{Opened: d(1), Resolved: d(1).Add(time.Hour)},
				{Service: "s", Opened: d(1), Resolved: d(1).Add(3 * time.Hour)},
			}},
			kpi: meanTimeToRecovery, want: 2 * hour, ok: true},
		{name: "incident without a service does not count for a team",
			in: Input{Incidents: []Incident{
				{Opened: d(1), Resolved: d(1).Add(time.Hour)},
				{Service: "s", Opened: d(1), Resolved: d(1).Add(3 * time.Hour)},
			}},
			kpi: meanTimeToRecovery, scope: only("s"), want: 3 * hour, ok: true},
	})
}

func TestSecurityRelatedRollbackRate(t *testing.T) {
	in := func(security bool, rollback CompareStatus) Input {
		return Input{
			Deployments: []Deployment{
				dep("s", "1", d(1), First, d(0)),
				dep("s", "2", d(2), Ahead, d(1)),
				dep("s", "3", d(2.5), rollback),
			},
			Incidents: []Incident{{Service: "s", Opened: d(2.1), Security: security}},
		}
	}
	runValueCases(t, []valueCase{
		{name: "rollback of a deployment with a security incident",
			in: in(true, Behind), kpi: securityRelatedRollbackRate, want: 1.0 / 3, ok: true},
		{name: "rollback of a deployment with a non-security incident",
			in: in(false, Behind), kpi: securityRelatedRollbackRate, want: 0, ok: true},
		{name: "security incident without a rollback",
			in: in(true, Ahead), kpi: securityRelatedRollbackRate, want: 0, ok: true},
		{name: "counted at the rollback's time",
			in: in(true, Behind), kpi: securityRelatedRollbackRate, from: d(2.2), to: d(10), want: 1, ok: true},
	})
}

func TestFrequenciesAndRates(t *testing.T) {
	manual := dep("s1", "m", d(4), Ahead, d(3))
	manual.Manual = true
	deps := []Deployment{
		dep("s1", "1", d(1), First, d(0)), dep("s1", "2", d(2), Ahead, d(1)), dep("s1", "3", d(3), Ahead, d(2)),
		manual, dep("s1", "5", d(5), Ahead, d(4)),
		dep("s2", "6", d(6), First, d(5)),
		dep("s3", "7", d(-3), First, d(-4)), // deploys, but not in the window
	}
	incidentOnly := Incident{Service: "s4", Opened: d(1)}
	attempts := []Attempt{
		{Service: "s1", Time: d(1), Success: true},
		{Service: "s1", Time: d(2), Success: true},
		{Service: "s1", Time: d(3), Success: true},
		{Service: "s1", Time: d(3.5), Success: false},
		{Service: "s1", Time: d(-1), Success: false}, // outside the window
		{Service: "s5", Time: d(2), Success: false},  // never succeeded
	}
	in := Input{Deployments: deps, Attempts: attempts, Incidents: []Incident{incidentOnly}}
	runValueCases(t, []valueCase{
		{name: "deployment frequency of the organization is the pooled count per day",
			in: in, kpi: deploymentFrequency, want: 0.6, ok: true},
		{name: "deployment frequency of a team",
			in: in, kpi: deploymentFrequency, scope: only("s1", "s2"), want: 0.6, ok: true},
		{name: "service that deployed before the window: 0, not absent",
			in: in, kpi: deploymentFrequency, scope: only("s3"), want: 0, ok: true},
		{name: "service whose attempts all failed: 0 deployments, not absent",
			in: in, kpi: deploymentFrequency, scope: only("s5"), want: 0, ok: true},
		{name: "service that never deploys: absent",
			in: in, kpi: deploymentFrequency, scope: only("s4"), ok: false},
		{name: "application deployment frequency of a service",
			in: in, kpi: applicationDeploymentFrequency, scope: only("s1"), want: 0.5, ok: true},
		{name: "application deployment frequency is the median over deploying services",
			// s1 0.5, s2 0.1, s3 0, s5 0 → median 0.05 (mean would be 0.15; s4 never deploys and is not a 0).
			in: in, kpi: applicationDeploymentFrequency, want: 0.05, ok: true},
		{name: "application deployment frequency: odd number of services",
			in: in, kpi: applicationDeploymentFrequency, scope: only("s1", "s2", "s3", "s4"), want: 0.1, ok: true},
		{name: "application deployment frequency of services that never deploy: absent",
			in: in, kpi: applicationDeploymentFrequency, scope: only("s4"), ok: false},
		{name: "manual intervention rate",
			in: in, kpi: manualInterventionRate, scope: only("s1"), want: 0.2, ok: true},
		{name: "automation success rate counts failed attempts",
			in: in, kpi: automationSuccessRate, scope: only("s1"), want: 0.75, ok: true},
		{name: "failed attempts are not deployments",
			in: Input{Deployments: deps[:1], Attempts: attempts}, kpi: deploymentFrequency, scope: only("s1"), want: 0.1, ok: true},
		{name: "no attempts: automation success rate absent",
			in: Input{Deployments: deps}, kpi: automationSuccessRate, ok: false},
		{name: "the same upstream deployment listed twice counts once",
			in: Input{Deployments: []Deployment{deps[0], deps[0]}}, kpi: deploymentFrequency, want: 0.1, ok: true},
		{name: "unknown KPI",
			in: in, kpi: "endpoint_compliance_rate", ok: false},
		{name: "empty window",
			in: in, kpi: deploymentFrequency, from: d(5), to: d(5), ok: false},
	})
}

func TestWindowEdges(t *testing.T) {
	// (from, to]: an event at `to` (now) counts, an event at `from` belongs to the previous window.
	in := func(at time.Time) Input {
		return Input{
			Deployments: []Deployment{dep("s", "1", d(-1), First, d(-2)), dep("s", "2", at, Ahead, at.Add(-time.Hour))},
			Attempts:    []Attempt{{Service: "s", Time: at, Success: true}},
			Incidents:   []Incident{{Service: "s", Opened: at.Add(-time.Hour), Resolved: at}},
		}
	}
	for _, kpi := range []string{deploymentFrequency, leadTimeForChanges, automationSuccessRate, meanTimeToRecovery} {
		t.Run(kpi, func(t *testing.T) {
			a := Analyze(in(d(10)), week)
			if _, ok := a.Value(kpi, all, d(0), d(10)); !ok {
				t.Errorf("event at `to` not counted")
			}
			if v, ok := Analyze(in(d(0)), week).Value(kpi, all, d(0), d(10)); ok && v != 0 {
				t.Errorf("event at `from` counted: %v", v)
			}
			if v, ok := a.Value(kpi, all, d(10), d(20)); ok && v != 0 {
				t.Errorf("event counted in two consecutive windows: %v", v)
			}
		})
	}
	if got := Analyze(in(d(10)), week).IncidentCount("", d(0), d(10)); got != 0 {
		t.Errorf("IncidentCount of no pillar = %d, want 0", got)
	}
}

func TestIncidentCount(t *testing.T) {
	a := Analyze(Input{Incidents: []Incident{
		{Service: "s", Opened: d(1), Pillar: catalog.Identities, Security: true},
		{Opened: d(2), Pillar: catalog.Identities}, // no service: still the organization's incident
		{Service: "s", Opened: d(0), Pillar: catalog.Identities},
		{Service: "s", Opened: d(10), Pillar: catalog.Identities},
		{Service: "s", Opened: d(3), Pillar: catalog.Network},
		{Service: "s", Opened: d(3), Pillar: "identity"}, // misspelt pillar label
	}}, week)
	for _, c := range []struct {
		pillar catalog.Area
		want   int
	}{{catalog.Identities, 3}, {catalog.Network, 1}, {catalog.Data, 0}, {"identity", 0}} {
		if got := a.IncidentCount(c.pillar, d(0), d(10)); got != c.want {
			t.Errorf("IncidentCount(%s) = %d, want %d", c.pillar, got, c.want)
		}
	}
}

func TestPairs(t *testing.T) {
	deps := []Deployment{
		dep("b", "9", d(1), ""),
		dep("a", "3", d(2), ""),
		dep("a", "2", d(2), ""), // same time as 3: ID breaks the tie
		dep("a", "1", d(1), ""),
		dep("a", "1", d(1), ""), // listed twice
		dep("c", "5", d(1), ""),
		dep("c", "6", d(3), ""),
	}
	var got []string
	for _, p := range Pairs(deps) {
		got = append(got, p.Previous.Service+":"+p.Previous.ID+"→"+p.Current.ID)
	}
	want := []string{"a:1→2", "a:2→3", "c:5→6"}
	if !slices.Equal(got, want) {
		t.Errorf("Pairs = %v, want %v", got, want)
	}
	if len(deps) != 7 || deps[0].Service != "b" {
		t.Errorf("Pairs modified its input")
	}
}

func TestServices(t *testing.T) {
	a := Analyze(Input{
		Deployments: []Deployment{dep("b", "1", d(1), First)},
		Attempts:    []Attempt{{Service: "c", Time: d(1)}},
		Incidents:   []Incident{{Service: "a", Opened: d(1)}, {Opened: d(1)}},
	}, week)
	if got, want := a.Services(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Services = %v, want %v", got, want)
	}
}

func TestPerformanceLevel(t *testing.T) {
	const eps = 1e-9
	cases := []struct {
		kpi   string
		value float64
		level int
	}{
		{deploymentFrequency, 3, 4},
		{deploymentFrequency, 1, 4},
		{deploymentFrequency, 1 - eps, 3},
		{deploymentFrequency, 4.0 / 28, 3}, // 4 deployments in 4 weeks is once a week
		{deploymentFrequency, 1.0/7 - eps, 2},
		{deploymentFrequency, 1.0 / 30, 2},
		{deploymentFrequency, 1.0/30 - eps, 1},
		{deploymentFrequency, 0, 1},
		{leadTimeForChanges, 0, 4},
		{leadTimeForChanges, day - 1, 4},
		{leadTimeForChanges, day, 3},
		{leadTimeForChanges, 7*day - 1, 3},
		{leadTimeForChanges, 7 * day, 2},
		{leadTimeForChanges, 30*day - 1, 2},
		{leadTimeForChanges, 30 * day, 1},
		{changeFailureRate, 0, 4},
		{changeFailureRate, 0.05, 4},
		{changeFailureRate, 0.05 + eps, 3},
		{changeFailureRate, 0.10, 3},
		{changeFailureRate, 0.10 + eps, 2},
		{changeFailureRate, 0.15, 2},
		{changeFailureRate, 0.15 + eps, 1},
		{changeFailureRate, 1, 1},
		{meanTimeToRecovery, hour - 1, 4},
		{meanTimeToRecovery, hour, 3},
		{meanTimeToRecovery, day - 1, 3},
		{meanTimeToRecovery, day, 2},
		{meanTimeToRecovery, 7*day - 1, 2},
		{meanTimeToRecovery, 7 * day, 1},
	}
	for _, c := range cases {
		if got, ok := PerformanceLevel(c.kpi, c.value); !ok || got != c.level {
			t.Errorf("PerformanceLevel(%s, %v) = %d, %v; want %d", c.kpi, c.value, got, ok, c.level)
		}
	}
	for _, c := range []struct {
		kpi   string
		value float64
	}{{applicationDeploymentFrequency, 1}, {automationSuccessRate, 1}, {leadTimeForChanges, math.NaN()}} {
		if _, ok := PerformanceLevel(c.kpi, c.value); ok {
			t.Errorf("PerformanceLevel(%s, %v) has a level", c.kpi, c.value)
		}
	}
}

// TestKPIsMatchCatalog keeps the ids this package spells in step with the catalog, the one source of truth.
func TestKPIsMatchCatalog(t *testing.T) {
	var want []string
	for _, k := range catalog.Default().KPIs() {
		if k.Statistic == catalog.DORA {
			want = append(want, k.ID)
		}
	}
	got := KPIs()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("KPIs() = %v, catalog DORA KPIs = %v", got, want)
	}
}

// collector serves Metrics through a registry, which checks them against the declared families.
type collector struct{ metrics []prometheus.Metric }

func (c collector) Describe(ch chan<- *prometheus.Desc) { Families.Describe(ch) }
func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics {
		ch <- m
	}
}

func teamOf(s string) string {
	if s == "acme/checkout" || s == "acme/pay" {
		return "payments"
	}
	return ""
}

// history is a small release history of two services up to `until`.
func history(until time.Time) Input {
	all := Input{
		Deployments: []Deployment{
			dep("acme/checkout", "101", d(1), First, d(0.5)),
			dep("acme/checkout", "102", d(2), Ahead, d(1.5), d(1.8)),
			dep("acme/checkout", "103", d(2.5), Behind),
			dep("acme/checkout", "104", d(4), Ahead, d(1.5), d(1.8)),
			dep("acme/checkout", "105", d(5), Identical),
			dep("acme/pay", "201", d(1), First, d(0)),
			dep("acme/pay", "202", d(3), Ahead, d(2.9)),
			dep("acme/pay", "203", d(6), Ahead, d(5.9)),
		},
		Attempts: []Attempt{
			{Service: "acme/checkout", Time: d(1), Success: true},
			{Service: "acme/checkout", Time: d(1.9), Success: false},
			{Service: "acme/checkout", Time: d(2), Success: true},
			{Service: "acme/pay", Time: d(3), Success: true},
		},
		Incidents: []Incident{
			{Service: "acme/pay", Opened: d(3.5), Resolved: d(3.6), Pillar: catalog.Applications, Security: true},
			{Service: "acme/pay", Opened: d(6.5), Pillar: "typo"},
			{Opened: d(2), Resolved: d(2.1), Pillar: catalog.Network},
		},
	}
	all.Deployments[1].Manual = true
	var in Input
	for _, x := range all.Deployments {
		if !x.Time.After(until) {
			in.Deployments = append(in.Deployments, x)
		}
	}
	for _, x := range all.Attempts {
		if !x.Time.After(until) {
			in.Attempts = append(in.Attempts, x)
		}
	}
	for _, x := range all.Incidents {
		if !x.Opened.After(until) {
			if x.Resolved.After(until) {
				x.Resolved = time.Time{}
			}
			in.Incidents = append(in.Incidents, x)
		}
	}
	return in
}

// gather serves Metrics through a pedantic registry, which checks every sample against its declared family.
func gather(t *testing.T, in Input) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector{Analyze(in, week).Metrics(teamOf)})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// samples flattens families into `name{label="value",…}` → value; a histogram gives its _count, _sum and
// cumulative _bucket samples, as Prometheus would scrape them.
func samples(mfs []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := func(suffix string, extra ...string) string {
				return mf.GetName() + suffix + "{" + strings.Join(append(slices.Clone(ls), extra...), ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key("")] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				h := m.GetHistogram()
				out[key("_count")] = float64(h.GetSampleCount())
				out[key("_sum")] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					out[key("_bucket", fmt.Sprintf("le=\"%g\"", b.GetUpperBound()))] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	mfs := gather(t, history(d(10)))
	got := samples(mfs)
	const checkout, pay, org = `service="acme/checkout",team="payments"`, `service="acme/pay",team="payments"`, `service="",team=""`
	want := map[string]float64{
		"ztmm_deployments_total{" + checkout + "}":                                5, // rollback and redeploy included
		"ztmm_deployments_total{" + pay + "}":                                     3,
		`ztmm_deployment_attempts_total{result="failure",` + checkout + "}":       1,
		`ztmm_deployment_attempts_total{result="success",` + checkout + "}":       2,
		`ztmm_deployment_attempts_total{result="failure",` + pay + "}":            0,
		`ztmm_deployment_attempts_total{result="success",` + pay + "}":            1,
		"ztmm_manual_deployments_total{" + checkout + "}":                         1,
		"ztmm_manual_deployments_total{" + pay + "}":                              0,
		"ztmm_rollbacks_total{" + checkout + "}":                                  1,
		"ztmm_rollbacks_total{" + pay + "}":                                       0,
		"ztmm_failed_deployments_total{" + checkout + "}":                         1, // rolled back
		"ztmm_failed_deployments_total{" + pay + "}":                              2, // two incidents
		"ztmm_deployment_changes_total{" + checkout + "}":                         5, // the roll-forward's again
		"ztmm_deployment_changes_total{" + pay + "}":                              3,
		`ztmm_incidents_total{pillar="network",security="false",` + org + "}":     1,
		`ztmm_incidents_total{pillar="",security="false",` + pay + "}":            1, // misspelt pillar
		`ztmm_incidents_total{pillar="applications",security="true",` + pay + "}": 1,
		// Changes 0.5 d; 0.5 d and 0.2 d; again 2.5 d and 2.2 d after the roll-forward.
		"ztmm_lead_time_seconds_count{" + checkout + "}":             5,
		"ztmm_lead_time_seconds_sum{" + checkout + "}":               (0.5 + 0.5 + 0.2 + 2.5 + 2.2) * day,
		"ztmm_lead_time_seconds_bucket{" + checkout + `,le="86400"}`: 3,
		"ztmm_lead_time_seconds_count{" + pay + "}":                  3,
		"ztmm_lead_time_seconds_sum{" + pay + "}":                    (1 + 0.1 + 0.1) * day,
		// The rollback half a day after the failed deployment; no incident on checkout.
		"ztmm_recovery_seconds_count{" + checkout + "}": 1,
		"ztmm_recovery_seconds_sum{" + checkout + "}":   0.5 * day,
		// The resolved security incident; the open one is no recovery yet.
		"ztmm_recovery_seconds_count{" + pay + "}": 1,
		"ztmm_recovery_seconds_sum{" + pay + "}":   0.1 * day,
		"ztmm_recovery_seconds_count{" + org + "}": 1,
		"ztmm_recovery_seconds_sum{" + org + "}":   0.1 * day,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-6 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	// Nothing more than the above: the bucket samples aside, every series is listed.
	for k := range got {
		if _, ok := want[k]; !ok && !strings.Contains(k, "_bucket{") {
			t.Errorf("unexpected series %s", k)
		}
	}
	for _, mf := range mfs {
		if !strings.Contains(mf.GetHelp(), "since the configured start") {
			t.Errorf("%s: help does not say it is rebuilt from history: %q", mf.GetName(), mf.GetHelp())
		}
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
}

// TestMetricsDeterministicAndMonotonic: the counters are a function of the history alone (input order does
// not matter), so a restart gives the same values, and they never drop as the history grows.
func TestMetricsDeterministicAndMonotonic(t *testing.T) {
	in := history(d(10))
	base := samples(gather(t, in))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := Input{Deployments: slices.Clone(in.Deployments), Attempts: slices.Clone(in.Attempts), Incidents: slices.Clone(in.Incidents)}
		rng.Shuffle(len(shuffled.Deployments), func(i, j int) {
			shuffled.Deployments[i], shuffled.Deployments[j] = shuffled.Deployments[j], shuffled.Deployments[i]
		})
		rng.Shuffle(len(shuffled.Incidents), func(i, j int) {
			shuffled.Incidents[i], shuffled.Incidents[j] = shuffled.Incidents[j], shuffled.Incidents[i]
		})
		if got := samples(gather(t, shuffled)); !mapsEqual(got, base) {
			t.Fatalf("metrics depend on input order:\n%v\n%v", got, base)
		}
	}

	prev := map[string]float64{}
	for until := d(0); !until.After(d(10)); until = until.Add(6 * time.Hour) {
		cur := samples(gather(t, history(until)))
		for k, v := range prev {
			if !strings.Contains(k, "_sum{") && cur[k] < v {
				t.Errorf("at %v %s dropped from %v to %v", until, k, v, cur[k])
			}
		}
		prev = cur
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestMetricLabelsBounded: no label value is ever an upstream id, SHA or other free text.
func TestMetricLabelsBounded(t *testing.T) {
	in := history(d(10))
	allowed := map[string]map[string]bool{
		"team":     {"": true, "payments": true},
		"service":  {"": true, "acme/checkout": true, "acme/pay": true},
		"result":   {"success": true, "failure": true},
		"security": {"true": true, "false": true},
		"pillar":   {"": true},
	}
	for _, a := range catalog.Default().AreaIDs() {
		allowed["pillar"][string(a)] = true
	}
	mfs := gather(t, in)
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				n++
				if vs, known := allowed[l.GetName()]; !known || !vs[l.GetValue()] {
					t.Errorf("%s: label %s=%q is not a bounded value", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no labels seen")
	}
}

// benchmarkInput is 500 services deploying every 8 hours for a year, with two changes per deployment,
// a failed attempt and a rollback now and then, and an incident a week.
func benchmarkInput() Input {
	const services = 500
	rng := rand.New(rand.NewPCG(42, 42))
	var in Input
	for s := range services {
		name := fmt.Sprintf("org/svc-%03d", s)
		for i, t := 0, t0; t.Before(t0.AddDate(1, 0, 0)); i, t = i+1, t.Add(8*time.Hour+time.Duration(rng.IntN(3600))*time.Second) {
			st := Ahead
			switch {
			case i == 0:
				st = First
			case rng.IntN(50) == 0:
				st = Behind
			}
			x := dep(name, fmt.Sprint(i), t, st, t.Add(-time.Duration(rng.IntN(72))*time.Hour), t.Add(-time.Hour))
			x.Manual = rng.IntN(20) == 0
			in.Deployments = append(in.Deployments, x)
			in.Attempts = append(in.Attempts, Attempt{Service: name, Time: t, Success: true})
			if rng.IntN(30) == 0 {
				in.Attempts = append(in.Attempts, Attempt{Service: name, Time: t.Add(-time.Minute)})
			}
			if i%21 == 0 {
				in.Incidents = append(in.Incidents, Incident{Service: name, Opened: t.Add(time.Hour), Resolved: t.Add(3 * time.Hour),
					Pillar: catalog.Applications, Security: rng.IntN(4) == 0})
			}
		}
	}
	return in
}

func BenchmarkAnalyze(b *testing.B) {
	in := benchmarkInput()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Analyze(in, week)
	}
}

// BenchmarkValue is one scrape's worth of work for the organization scope and one service.
func BenchmarkValue(b *testing.B) {
	a := Analyze(benchmarkInput(), week)
	to := t0.AddDate(1, 0, 0)
	from := to.AddDate(0, 0, -30)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, k := range KPIs() {
			a.Value(k, all, from, to)
			a.Value(k, only("org/svc-007"), from, to)
		}
	}
}
