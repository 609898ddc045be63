package maturity

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/kpi"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// sample is an organization-level KPI value judged against the catalog's target.
func sample(id string, v float64) kpi.Sample {
	k, ok := catalog.Default().KPI(id)
	if !ok {
		panic("unknown KPI " + id)
	}
	return kpi.Sample{KPI: k, Value: v, Op: k.Op, Target: k.Target, Met: k.Met(v, k.Target)}
}

func kpis(samples ...kpi.Sample) *kpi.Result { return &kpi.Result{Time: now, Samples: samples} }

// attest returns an assessment in which every given criterion is attested met on date.
func attest(date time.Time, ids ...string) *Assessment {
	a := &Assessment{Attestations: map[string]Attestation{}}
	for _, id := range ids {
		a.Attestations[id] = Attestation{Criterion: id, Met: true, Evidence: "https://wiki.example.com/" + id, AssessedBy: "council", Date: date}
	}
	return a
}

// criteria returns the ids of an area's criteria at the given levels, except those listed.
func criteria(area catalog.Area, levels []int, except ...string) []string {
	a, _ := catalog.Default().Area(area)
	var out []string
	for _, l := range levels {
		for _, c := range a.Levels[l-1].Criteria {
			if !contains(except, c.ID) {
				out = append(out, c.ID)
			}
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestLevelsAndScores(t *testing.T) {
	recent := now.Add(-10 * day)
	for _, tc := range []struct {
		name      string
		attested  []string
		area      catalog.Area
		wantLevel int
		wantScore float64
	}{
		{"nothing attested: the baseline", nil, catalog.Identities, 1, 1},
		{"half of level 2", criteria(catalog.Identities, []int{2})[:2], catalog.Identities, 1, 1.5},
		{"level 2 complete", criteria(catalog.Identities, []int{2}), catalog.Identities, 2, 2},
		{"gap at level 3 stops the staging however much is met above",
			criteria(catalog.Identities, []int{2, 3, 4, 5}, "identities.l3.identity_analytics"), catalog.Identities, 2, 2.75},
		{"level 4 met but level 3 only partly: next level's share only",
			criteria(catalog.Endpoints, []int{2, 4}, "endpoints.l2.basic_edr"), catalog.Endpoints, 1, 1.75},
		{"level 4 complete", criteria(catalog.Data, []int{2, 3, 4}), catalog.Data, 4, 4},
		{"everything: level 5 scores exactly 5", criteria(catalog.Network, []int{2, 3, 4, 5}), catalog.Network, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Evaluate(catalog.Default(), nil, attest(recent, tc.attested...), kpis(), now)
			a, ok := r.Area(tc.area)
			if !ok {
				t.Fatalf("no result for %s", tc.area)
			}
			if a.Level != tc.wantLevel || !near(a.Score, tc.wantScore) {
				t.Errorf("level %d score %v, want level %d score %v", a.Level, a.Score, tc.wantLevel, tc.wantScore)
			}
		})
	}
}

func TestOverallScoreIsTheMeanOfTheSixPillars(t *testing.T) {
	ids := append(criteria(catalog.Identities, []int{2, 3}), criteria(catalog.Network, []int{2})...)
	// Service release at level 5 must not move the overall score: it is not a pillar.
	ids = append(ids, criteria(catalog.ServiceRelease, []int{2, 3, 4, 5})...)
	r := Evaluate(catalog.Default(), nil, attest(now, ids...), kpis(), now)
	if want := (3.0 + 1 + 1 + 1 + 1 + 2) / 6; !near(r.Score, want) {
		t.Errorf("overall score %v, want %v", r.Score, want)
	}
}

func TestEvidence(t *testing.T) {
	fresh, stale := now.Add(-10*day), now.Add(-200*day)
	dora := []kpi.Sample{sample("deployment_frequency", 4), sample("lead_time_for_changes", 1800),
		sample("mean_time_to_recovery", 600), sample("change_failure_rate", 0.02)}
	notMetAt := func(date time.Time, id string) *Assessment {
		a := attest(date, id)
		at := a.Attestations[id]
		at.Met = false
		a.Attestations[id] = at
		return a
	}
	for _, tc := range []struct {
		name      string
		criterion string
		cfg       *config.Config
		a         *Assessment
		kpis      []kpi.Sample
		met       bool
		evidence  Evidence
	}{
		{"level 1 is the baseline", "identities.l1.password_authentication", nil, nil, nil, true, None},
		{"KPI meets its target", "identities.l2.mfa", nil, nil, []kpi.Sample{sample("mfa_coverage", 0.995)}, true, Measured},
		{"KPI breaches its target", "identities.l2.mfa", nil, nil, []kpi.Sample{sample("mfa_coverage", 0.9)}, false, Measured},
		{"measured wins over a stale attestation", "identities.l2.mfa", nil, notMetAt(stale, "identities.l2.mfa"),
			[]kpi.Sample{sample("mfa_coverage", 0.995)}, true, Measured},
		{"measured wins over a fresh attestation", "identities.l2.mfa", nil, attest(fresh, "identities.l2.mfa"),
			[]kpi.Sample{sample("mfa_coverage", 0.5)}, false, Measured},
		{"KPI without data and no attestation", "identities.l2.mfa", nil, nil, nil, false, None},
		{"KPI without data, attested", "identities.l2.mfa", nil, attest(fresh, "identities.l2.mfa"), nil, true, Attested},
		{"KPI without data, attested not met", "identities.l2.mfa", nil, notMetAt(fresh, "identities.l2.mfa"), nil, false, Attested},
		{"KPI without data, attestation expired", "identities.l2.mfa", nil, attest(stale, "identities.l2.mfa"), nil, false, Expired},
		{"has_data holds below target", "infrastructure.l2.iac", nil, nil, []kpi.Sample{sample("infrastructure_provisioning_time", 7200)}, true, Measured},
		{"comparison holds although the target is breached", "service_release.l2.automated_pipelines", nil, nil,
			[]kpi.Sample{sample("manual_intervention_rate", 0.3)}, true, Measured},
		{"comparison fails", "service_release.l2.automated_pipelines", nil, nil,
			[]kpi.Sample{sample("manual_intervention_rate", 0.6)}, false, Measured},
		{"all four DORA KPIs met", "service_release.l5.seamless_continuous_deployment", nil, nil, dora, true, Measured},
		{"three DORA KPIs met, one without data: attestation decides", "service_release.l5.seamless_continuous_deployment", nil,
			attest(fresh, "service_release.l5.seamless_continuous_deployment"), dora[:3], true, Attested},
		{"one DORA KPI breached, one without data: measured not met", "service_release.l5.seamless_continuous_deployment", nil,
			attest(fresh, "service_release.l5.seamless_continuous_deployment"),
			[]kpi.Sample{dora[0], dora[1], sample("change_failure_rate", 0.2)}, false, Measured},
		{"no rule: attestation only", "identities.l2.automated_provisioning", nil, attest(fresh, "identities.l2.automated_provisioning"),
			[]kpi.Sample{sample("mfa_coverage", 0.995)}, true, Attested},
		{"config switches a default rule off", "identities.l2.mfa",
			&config.Config{Maturity: &config.Maturity{Rules: []config.MeasuredRule{{Criterion: "identities.l2.mfa", Condition: config.Condition{Kind: config.AttestationOnly}}}}},
			nil, []kpi.Sample{sample("mfa_coverage", 0.995)}, false, None},
		{"config replaces a default rule", "service_release.l2.automated_pipelines",
			&config.Config{Maturity: &config.Maturity{Rules: []config.MeasuredRule{{Criterion: "service_release.l2.automated_pipelines",
				KPI: "manual_intervention_rate", Condition: config.CompareCondition(catalog.LT, 0.2)}}}},
			nil, []kpi.Sample{sample("manual_intervention_rate", 0.3)}, false, Measured},
		{"config adds a rule", "data.l3.automated_governance_workflows",
			&config.Config{Maturity: &config.Maturity{Rules: []config.MeasuredRule{{Criterion: "data.l3.automated_governance_workflows",
				KPI: "data_governance_compliance_rate", Condition: config.Condition{Kind: config.Met}}}}},
			nil, []kpi.Sample{sample("data_governance_compliance_rate", 0.995)}, true, Measured},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Evaluate(catalog.Default(), tc.cfg, tc.a, kpis(tc.kpis...), now)
			c := find(t, r, tc.criterion)
			if c.Met != tc.met || c.Evidence != tc.evidence {
				t.Errorf("%s: met %v evidence %s, want met %v evidence %s (%s)", tc.criterion, c.Met, c.Evidence, tc.met, tc.evidence, c.Measurement)
			}
		})
	}
}

func find(t *testing.T, r *Result, id string) CriterionResult {
	t.Helper()
	for _, a := range r.Areas {
		for _, c := range a.Criteria {
			if c.Criterion.ID == id {
				return c
			}
		}
	}
	t.Fatalf("criterion %s not in the result", id)
	return CriterionResult{}
}

func TestMeasurementSaysWhy(t *testing.T) {
	r := Evaluate(catalog.Default(), nil, nil, kpis(sample("mfa_coverage", 0.9)), now)
	if got, want := find(t, r, "identities.l2.mfa").Measurement, "mfa_coverage = 0.9 does not meet target >= 0.99"; got != want {
		t.Errorf("measurement %q, want %q", got, want)
	}
}

func TestExpiryAtTheBoundary(t *testing.T) {
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		validity config.Duration // 0: the default, 90 days
		now      time.Time
		met      bool
		evidence Evidence
	}{
		{"one day old", 0, date.Add(day), true, Attested},
		{"exactly 90 days old: still valid", 0, date.Add(90 * day), true, Attested},
		{"a nanosecond past 90 days: expired", 0, date.Add(90*day + 1), false, Expired},
		{"exactly a configured 30 days", config.Duration(30 * day), date.Add(30 * day), true, Attested},
		{"a second past a configured 30 days", config.Duration(30 * day), date.Add(30*day + time.Second), false, Expired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{Assessment: &config.Assessment{Validity: tc.validity}}
			r := Evaluate(catalog.Default(), cfg, attest(date, "data.l2.dlp"), kpis(), tc.now)
			if c := find(t, r, "data.l2.dlp"); c.Met != tc.met || c.Evidence != tc.evidence {
				t.Errorf("met %v evidence %s, want met %v evidence %s", c.Met, c.Evidence, tc.met, tc.evidence)
			}
		})
	}
}

// allReleaseKPIsMet are values meeting every service release KPI's target.
func allReleaseKPIsMet() []kpi.Sample {
	var out []kpi.Sample
	for _, k := range catalog.Default().KPIsOf(catalog.ServiceRelease) {
		v := k.Target
		switch k.Op {
		case catalog.LT:
			v = k.Target / 2
		case catalog.GT:
			v = k.Target*1.001 + 0.001
		}
		out = append(out, sample(k.ID, v))
	}
	return out
}

func TestReadinessBands(t *testing.T) {
	sr := func(levels ...int) []string { return criteria(catalog.ServiceRelease, levels) }
	for _, tc := range []struct {
		name     string
		attested []string
		kpis     []kpi.Sample
		level    int
		want     float64
	}{
		{"level 1, nothing of level 2: 0 %", nil, nil, 1, 0},
		{"level 2: 20 %", sr(2), nil, 2, 0.2},
		{"level 3: 40 %", sr(2, 3), nil, 3, 0.4},
		{"level 3 and half of level 4: 50 %", append(sr(2, 3), sr(4)[:2]...), nil, 3, 0.5},
		{"level 4: 60 %", sr(2, 3, 4), nil, 4, 0.6},
		{"level 5, no KPI meeting target: 80 %", sr(2, 3, 4, 5), nil, 5, 0.8},
		{"level 5, every service release KPI meeting target: 100 %", sr(2, 3, 4, 5), allReleaseKPIsMet(), 5, 1},
		{"level 5, 3 of 12 KPIs meeting target: 85 %", sr(2, 3, 4, 5), allReleaseKPIsMet()[4:7], 5, 0.85},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Evaluate(catalog.Default(), nil, attest(now, tc.attested...), kpis(tc.kpis...), now)
			a, _ := r.Area(catalog.ServiceRelease)
			if a.Level != tc.level || !near(r.Readiness, tc.want) {
				t.Errorf("level %d readiness %v, want level %d readiness %v", a.Level, r.Readiness, tc.level, tc.want)
			}
		})
	}
	if n := len(allReleaseKPIsMet()); n != 12 {
		t.Fatalf("service release has %d KPIs, the 100 %% case assumes 12", n)
	}
}

func TestBehindRoadmap(t *testing.T) {
	due := config.Date{Time: now.Add(-day)}
	cfg := &config.Config{Roadmap: map[string]config.RoadmapTarget{
		"data":       {Level: 2, Due: due},
		"network":    {Level: 2, Due: config.Date{Time: now.Add(day)}},
		"identities": {Level: 2, Due: due},
	}}
	r := Evaluate(catalog.Default(), cfg, attest(now, criteria(catalog.Identities, []int{2})...), kpis(), now)
	for _, tc := range []struct {
		area   catalog.Area
		behind bool
	}{{catalog.Data, true}, {catalog.Network, false}, {catalog.Identities, false}, {catalog.Endpoints, false}} {
		a, _ := r.Area(tc.area)
		if got := a.BehindRoadmap(now); got != tc.behind {
			t.Errorf("%s behind roadmap = %v, want %v", tc.area, got, tc.behind)
		}
	}
}

func TestDefaultRulesNameRealCriteriaAndKPIs(t *testing.T) {
	cat := catalog.Default()
	for _, r := range DefaultRules() {
		c, ok := cat.Criterion(r.Criterion)
		if !ok || c.Level == 1 {
			t.Errorf("rule for %q: not a criterion of level 2-5", r.Criterion)
		}
		if _, ok := cat.KPI(r.KPI); !ok {
			t.Errorf("rule for %s: unknown KPI %q", r.Criterion, r.KPI)
		}
	}
	if got := describe(cat, Rules(nil)["service_release.l5.seamless_continuous_deployment"]); !strings.Contains(got, "change_failure_rate meets its target (<5%)") {
		t.Errorf("description %q", got)
	}
}
