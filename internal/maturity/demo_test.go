package maturity

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/kpi"
)

// demoKPIs are organization-level values of the kind the demo organization produces: some targets met,
// some breached, data's KPIs without data.
func demoKPIs() *kpi.Result {
	return kpis(
		sample("mfa_coverage", 0.995),                         // met: identities.l2.mfa measured
		sample("privileged_access_fulfillment_time", 180),     // met: identities.l3.privileged_access_management
		sample("standing_privileged_accounts", 2),             // breached: identities.l4.zero_standing_privileges not met
		sample("endpoint_compliance_rate", 0.97),              // breached, has data: l2 policies met, l3 device trust not
		sample("application_deployment_frequency", 1.5),       // has data: applications.l2.automated_cicd
		sample("security_scan_completion_time", 420),          // met: applications.l2 testing, service_release.l3 validation
		sample("security_policy_compliance_rate", 1),          // met: applications.l3 compliance, service_release.l3 policy
		sample("infrastructure_provisioning_time", 2400),      // breached, has data: infrastructure.l2.iac
		sample("infrastructure_policy_compliance_rate", 0.95), // breached, has data: infrastructure.l2 enforcement
		sample("network_segmentation_effectiveness", 0.97),    // met: infrastructure.l3, network.l2 and l3
		sample("manual_intervention_rate", 0.1),               // breached, but < 0.5: service_release.l2.automated_pipelines
		sample("mean_time_to_recovery", 600),                  // met: service_release.l3.automated_rollback_recovery
		sample("deployment_frequency", 3),                     // met
		sample("lead_time_for_changes", 5400),                 // breached: seamless continuous deployment not met
		sample("change_failure_rate", 0.08),                   // breached
	)
}

// demoCollector exposes a result the way the exporter does.
type demoCollector struct{ r *Result }

func (c demoCollector) Describe(ch chan<- *prometheus.Desc) { Families.Describe(ch) }
func (c demoCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.r.Metrics() {
		ch <- m
	}
}

// TestDemoAssessmentHandWorked is the hand-worked example of the demo assessment:
//
//	identities      L2 all met (mfa measured); L3 all met (PAM measured); L4: continuous authn attested,
//	                realtime detection attested, AI risk attested not met, zero standing privileges
//	                measured not met (2 standing accounts)                   → level 3, score 3.5
//	endpoints       L2 all met (compliance policies measured: the rate has data); L3: advanced threat
//	                protection attested, device trust measured not met (97 % < 99 %), remediation
//	                attested not met, monitoring none                        → level 2, score 2.25
//	applications    L2 all met (CI/CD and security testing measured); L3: DevSecOps and API attested,
//	                compliance checking measured (100 %), RASP attested not met → level 2, score 2.75
//	infrastructure  L2 all met (IaC and enforcement measured: have data although breached); L3 all met
//	                (micro-segmentation measured 97 % > 95 %); nothing of L4  → level 3, score 3.0
//	data            L2: DLP expired (120 days > 90), three attested          → level 1, score 1.75
//	network         L2 all met (segmentation measured); L3: SDP measured, advanced threat detection
//	                attested not met                                         → level 2, score 2.25
//	service_release L2 all met (manual interventions 10 % < 50 %); L3 all met (scan, MTTR, policy
//	                measured); L4: real-time monitoring attested, AI optimisation not met
//	                                                                         → level 3, score 3.25
//	overall = (3.5 + 2.25 + 2.75 + 3 + 1.75 + 2.25) / 6 = 15.5 / 6; readiness = (40 + 20·¼) / 100 = 0.45
//	roadmap: only data (target 2, due 30 days ago) is behind.
func TestDemoAssessmentHandWorked(t *testing.T) {
	a, err := ParseAssessment(DemoAssessment(now), "demo-assessment.yaml", now)
	if err != nil {
		t.Fatalf("the demo assessment does not validate: %v", err)
	}
	cfg := &config.Config{Roadmap: DemoRoadmap(now), Assessment: &config.Assessment{Validity: config.DefaultAttestValidity}}
	r := Evaluate(catalog.Default(), cfg, a, demoKPIs(), now)

	want := map[catalog.Area]struct {
		level  int
		score  float64
		behind bool
	}{
		catalog.Identities:     {3, 3.5, false},
		catalog.Endpoints:      {2, 2.25, false},
		catalog.Applications:   {2, 2.75, false},
		catalog.Infrastructure: {3, 3, false},
		catalog.Data:           {1, 1.75, true},
		catalog.Network:        {2, 2.25, false},
		catalog.ServiceRelease: {3, 3.25, false},
	}
	for _, ar := range r.Areas {
		w := want[ar.Area.ID]
		if ar.Level != w.level || !near(ar.Score, w.score) || ar.BehindRoadmap(now) != w.behind {
			t.Errorf("%s: level %d score %v behind %v, want level %d score %v behind %v",
				ar.Area.ID, ar.Level, ar.Score, ar.BehindRoadmap(now), w.level, w.score, w.behind)
		}
	}
	if !near(r.Score, 15.5/6) || !near(r.Readiness, 0.45) {
		t.Errorf("overall %v readiness %v, want %v and 0.45", r.Score, r.Readiness, 15.5/6)
	}

	evidence := map[Evidence][]string{}
	for _, ar := range r.Areas {
		for _, c := range ar.Criteria {
			if c.Criterion.Level > 1 {
				evidence[c.Evidence] = append(evidence[c.Evidence], c.Criterion.ID)
			}
		}
	}
	if got := evidence[Expired]; len(got) != 1 || got[0] != "data.l2.dlp" {
		t.Errorf("expired criteria %v, want exactly data.l2.dlp", got)
	}
	if c := find(t, r, "identities.l2.mfa"); c.Evidence != Measured || c.Attestation == nil {
		t.Errorf("identities.l2.mfa: evidence %s with attestation %v; want measured over the attestation", c.Evidence, c.Attestation)
	}
	if c := find(t, r, "data.l2.basic_governance_policies"); c.Evidence != Attested || !c.Met {
		t.Errorf("data.l2.basic_governance_policies without KPI data: evidence %s met %v, want attested and met", c.Evidence, c.Met)
	}
	if n := len(evidence[Measured]); n != 18 {
		t.Errorf("%d measured criteria, want 18 (every default rule's criterion but data's, whose KPI has no data): %v", n, evidence[Measured])
	}

	// Every maturity family for all seven areas.
	const exposition = `
# HELP ztmm_pillar_maturity_level Staged maturity level 1-5 of the area: the highest level whose criteria, and those of every level below, are all met.
# TYPE ztmm_pillar_maturity_level gauge
ztmm_pillar_maturity_level{pillar="applications"} 2
ztmm_pillar_maturity_level{pillar="data"} 1
ztmm_pillar_maturity_level{pillar="endpoints"} 2
ztmm_pillar_maturity_level{pillar="identities"} 3
ztmm_pillar_maturity_level{pillar="infrastructure"} 3
ztmm_pillar_maturity_level{pillar="network"} 2
ztmm_pillar_maturity_level{pillar="service_release"} 3
# HELP ztmm_pillar_maturity_score Continuous maturity score 1.0-5.0 of the area: its level plus the fraction of the next level's criteria met.
# TYPE ztmm_pillar_maturity_score gauge
ztmm_pillar_maturity_score{pillar="applications"} 2.75
ztmm_pillar_maturity_score{pillar="data"} 1.75
ztmm_pillar_maturity_score{pillar="endpoints"} 2.25
ztmm_pillar_maturity_score{pillar="identities"} 3.5
ztmm_pillar_maturity_score{pillar="infrastructure"} 3
ztmm_pillar_maturity_score{pillar="network"} 2.25
ztmm_pillar_maturity_score{pillar="service_release"} 3.25
# HELP ztmm_pillar_maturity_target_level Target maturity level of the area from the roadmap in config.
# TYPE ztmm_pillar_maturity_target_level gauge
ztmm_pillar_maturity_target_level{pillar="applications"} 3
ztmm_pillar_maturity_target_level{pillar="data"} 2
ztmm_pillar_maturity_target_level{pillar="endpoints"} 3
ztmm_pillar_maturity_target_level{pillar="identities"} 4
ztmm_pillar_maturity_target_level{pillar="infrastructure"} 3
ztmm_pillar_maturity_target_level{pillar="network"} 3
ztmm_pillar_maturity_target_level{pillar="service_release"} 4
# HELP ztmm_release_readiness_ratio Automated service release readiness 0-1: (20*(L-1) + 20*f)/100 with L the service release level and f the fraction of level L+1's criteria met (at level 5, of service release KPIs meeting their targets).
# TYPE ztmm_release_readiness_ratio gauge
ztmm_release_readiness_ratio 0.45
`
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(demoCollector{r})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	enc := expfmt.NewEncoder(&got, expfmt.NewFormat(expfmt.TypeTextPlain))
	count := map[string]int{}
	for _, mf := range mfs {
		count[mf.GetName()] = len(mf.GetMetric())
		switch mf.GetName() {
		case "ztmm_pillar_maturity_level", "ztmm_pillar_maturity_score", "ztmm_pillar_maturity_target_level", "ztmm_release_readiness_ratio":
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.String() != exposition[1:] {
		t.Errorf("exposition\n got:\n%s\nwant:\n%s", got.String(), exposition[1:])
	}
	for name, n := range map[string]int{
		"ztmm_maturity_criterion_met": 140, "ztmm_pillar_maturity_target_due_timestamp_seconds": 7, "ztmm_maturity_score": 1,
		"ztmm_maturity_attestation_expiry_timestamp_seconds": 53,
	} {
		if count[name] != n {
			t.Errorf("%s: %d series, want %d", name, count[name], n)
		}
	}
	for _, mf := range mfs {
		if mf.GetName() != "ztmm_maturity_criterion_met" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["criterion"] == "data.l2.dlp" && (labels["evidence"] != "expired" || m.GetGauge().GetValue() != 0 || labels["level"] != "2" || labels["pillar"] != "data") {
				t.Errorf("data.l2.dlp series %v = %v, want pillar data, level 2, evidence expired, 0", labels, m.GetGauge().GetValue())
			}
		}
	}
	// DLP was assessed 120 days before 2026-03-01: it expired 30 days ago, on 2026-01-30.
	dlpExpiry, found := float64(time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC).Unix()), false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "ztmm_maturity_attestation_expiry_timestamp_seconds" && m.GetLabel()[0].GetValue() == "data.l2.dlp" {
				found = true
				if m.GetGauge().GetValue() != dlpExpiry {
					t.Errorf("data.l2.dlp expiry %v, want %v", m.GetGauge().GetValue(), dlpExpiry)
				}
			}
		}
	}
	if !found {
		t.Error("no expiry series for data.l2.dlp")
	}
	dataDue := time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC) // 2026-03-01 − 30 days
	if a, _ := r.Area(catalog.Data); !a.Target.Due.Equal(dataDue) {
		t.Errorf("data due %v, want %v", a.Target.Due, dataDue)
	}
}

// TestDemoLevelsDoNotWaitForKPIData: before the demo's collectors have history, attestations alone put
// every area where the hand-worked example has it.
func TestDemoLevelsDoNotWaitForKPIData(t *testing.T) {
	a, err := ParseAssessment(DemoAssessment(now), "demo-assessment.yaml", now)
	if err != nil {
		t.Fatal(err)
	}
	withData := Evaluate(catalog.Default(), nil, a, demoKPIs(), now)
	without := Evaluate(catalog.Default(), nil, a, kpis(), now)
	for i, ar := range without.Areas {
		if w := withData.Areas[i]; ar.Level != w.Level || !near(ar.Score, w.Score) {
			t.Errorf("%s without KPI data: level %d score %v, with: level %d score %v", ar.Area.ID, ar.Level, ar.Score, w.Level, w.Score)
		}
	}
	if !near(without.Readiness, 0.45) {
		t.Errorf("readiness without KPI data %v, want 0.45", without.Readiness)
	}
}
