package maturity

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztmm/ztmm/internal/metricdef"
)

func family(name, help string, stable bool, labels ...string) *metricdef.Family {
	f := metricdef.New(name, metricdef.Gauge, help, labels...)
	f.Stable, f.Source = stable, "maturity"
	return f
}

var (
	criterionMetFamily = family("ztmm_maturity_criterion_met",
		"1 if the maturity criterion is met, else 0. evidence is measured (KPI rules decided), attested (a valid attestation in the assessment file), expired (the attestation is older than its validity) or none (no KPI data and no attestation; level-1 criteria are the baseline, always met with evidence none).",
		true, "pillar", "level", "criterion", "evidence")
	levelFamily = family("ztmm_pillar_maturity_level",
		"Staged maturity level 1-5 of the area: the highest level whose criteria, and those of every level below, are all met.",
		true, "pillar")
	scoreFamily = family("ztmm_pillar_maturity_score",
		"Continuous maturity score 1.0-5.0 of the area: its level plus the fraction of the next level's criteria met.",
		true, "pillar")
	targetLevelFamily = family("ztmm_pillar_maturity_target_level",
		"Target maturity level of the area from the roadmap in config.",
		true, "pillar")
	targetDueFamily = family("ztmm_pillar_maturity_target_due_timestamp_seconds",
		"When the roadmap's target level of the area is due, in seconds since the epoch.",
		false, "pillar")
	attestationExpiryFamily = family("ztmm_maturity_attestation_expiry_timestamp_seconds",
		"When the criterion's attestation in the assessment file stops counting (its date plus the configured validity), in seconds since the epoch; in the past for an expired attestation. The quarterly reassessment's due dates.",
		false, "pillar", "criterion")
	overallFamily = family("ztmm_maturity_score",
		"Overall Zero Trust maturity score: the mean of the six pillars' scores (service release excluded).",
		true)
	readinessFamily = family("ztmm_release_readiness_ratio",
		"Automated service release readiness 0-1: (20*(L-1) + 20*f)/100 with L the service release level and f the fraction of level L+1's criteria met (at level 5, of service release KPIs meeting their targets).",
		true)
)

// Families are the maturity families Metrics emits.
var Families = metricdef.Set{criterionMetFamily, levelFamily, scoreFamily, targetLevelFamily, targetDueFamily,
	attestationExpiryFamily, overallFamily, readinessFamily}

// Metrics returns every maturity sample: one per criterion (140), the expiry of each attestation, the
// level and score of each area, the roadmap target of each area that has one, and the overall score and
// readiness.
func (r *Result) Metrics() []prometheus.Metric {
	if r == nil {
		return nil
	}
	var out []prometheus.Metric
	for _, a := range r.Areas {
		pillar := string(a.Area.ID)
		for _, c := range a.Criteria {
			out = append(out, criterionMetFamily.Metric(b2f(c.Met), pillar, strconv.Itoa(c.Criterion.Level), c.Criterion.ID, string(c.Evidence)))
			if c.Attestation != nil {
				out = append(out, attestationExpiryFamily.Metric(float64(c.Attestation.Expires(r.Validity).Unix()), pillar, c.Criterion.ID))
			}
		}
		out = append(out,
			levelFamily.Metric(float64(a.Level), pillar),
			scoreFamily.Metric(a.Score, pillar))
		if a.Target != nil {
			out = append(out,
				targetLevelFamily.Metric(float64(a.Target.Level), pillar),
				targetDueFamily.Metric(float64(a.Target.Due.Unix()), pillar))
		}
	}
	return append(out, overallFamily.Metric(r.Score), readinessFamily.Metric(r.Readiness))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
