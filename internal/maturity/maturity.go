// Package maturity scores an organization on the maturity model (SPEC section 4): each criterion of each
// area and level is met or not on its evidence (measured from KPIs, attested by the governance council in
// the assessment file, or expired), levels are staged, scores are continuous, and the service release
// level becomes the release readiness ratio. It also writes the assessment template the council starts
// from and the demo organization's assessment.
package maturity

import (
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/kpi"
)

// Evidence is what a criterion's state rests on: the `evidence` label.
type Evidence string

// Evidence kinds. Level-1 criteria are met with evidence None: they describe the starting point, so
// there is nothing to measure or attest, and claiming "measured" or "attested" for them would be false.
const (
	Measured Evidence = "measured" // the criterion's KPI rules decided it
	Attested Evidence = "attested" // a valid attestation decided it
	Expired  Evidence = "expired"  // the only attestation is older than its validity: not met
	None     Evidence = "none"     // no KPI data and no attestation: not met (level 1: met, baseline)
)

// Result is one evaluation of every criterion, level and score.
type Result struct {
	Time  time.Time
	Areas []AreaResult // in the catalog's order
	// Score is the mean of the six pillars' scores (service release is not a pillar).
	Score float64
	// Readiness is the automated service release readiness, 0–1.
	Readiness float64
	// Validity is how long an attestation counts.
	Validity time.Duration
}

// AreaResult is one area's criteria, level and score.
type AreaResult struct {
	Area  catalog.AreaDef
	Level int     // 1–5, staged
	Score float64 // Level + Progress
	// Progress is the fraction of the next level's criteria met; 0 at level 5.
	Progress float64
	Criteria []CriterionResult
	// Target is the roadmap's target for the area, if config sets one.
	Target *config.RoadmapTarget
}

// BehindRoadmap reports whether the area's due date has passed without its target level reached.
func (a AreaResult) BehindRoadmap(now time.Time) bool {
	return a.Target != nil && a.Level < a.Target.Level && !now.Before(a.Target.Due.Time)
}

// CriterionResult is one criterion's state and why.
type CriterionResult struct {
	Criterion catalog.Criterion
	Met       bool
	Evidence  Evidence
	// Measurement explains the KPI rules' verdict ("" when the criterion has no rules).
	Measurement string
	// Attestation is the criterion's attestation, if the file has one, whether or not it decided.
	Attestation *Attestation
}

// Area returns the result of one area.
func (r *Result) Area(id catalog.Area) (AreaResult, bool) {
	for _, a := range r.Areas {
		if a.Area.ID == id {
			return a, true
		}
	}
	return AreaResult{}, false
}

// Evaluate judges every criterion at now from the organization-level KPI values and the assessment (nil
// when no file is configured), and derives levels, scores and readiness. cfg supplies measured rules,
// the attestation validity and the roadmap; nil means the defaults.
func Evaluate(cat *catalog.Catalog, cfg *config.Config, a *Assessment, kpis *kpi.Result, now time.Time) *Result {
	rules := Rules(cfg)
	validity := config.DefaultAttestValidity.D()
	if cfg != nil && cfg.Assessment != nil && cfg.Assessment.Validity != 0 {
		validity = cfg.Assessment.Validity.D()
	}
	res := &Result{Time: now, Validity: validity}
	var pillars float64
	for _, area := range cat.Areas() {
		ar := AreaResult{Area: area}
		if cfg != nil {
			if t, ok := cfg.Roadmap[string(area.ID)]; ok {
				ar.Target = &t
			}
		}
		met := make([]int, 5) // criteria met per level
		for _, l := range area.Levels {
			for _, c := range l.Criteria {
				cr := judge(c, rules[c.ID], a, kpis, validity, now)
				if cr.Met {
					met[l.Number-1]++
				}
				ar.Criteria = append(ar.Criteria, cr)
			}
		}
		ar.Level = 1
		for ar.Level < 5 && met[ar.Level] == len(area.Levels[ar.Level].Criteria) {
			ar.Level++
		}
		if ar.Level < 5 {
			ar.Progress = fraction(met[ar.Level], len(area.Levels[ar.Level].Criteria))
		}
		ar.Score = float64(ar.Level) + ar.Progress
		if area.Pillar() {
			pillars += ar.Score
		}
		if area.ID == catalog.ServiceRelease {
			res.Readiness = readiness(cat, ar, kpis)
		}
		res.Areas = append(res.Areas, ar)
	}
	if n := len(cat.Pillars()); n > 0 {
		res.Score = pillars / float64(n)
	}
	return res
}

// readiness places the service release level in the document's band: level L covers
// [20(L−1) %, 20 L %), the next level's criteria met move it through the band, and at level 5 the share
// of service release KPIs meeting their targets does.
func readiness(cat *catalog.Catalog, ar AreaResult, kpis *kpi.Result) float64 {
	f := ar.Progress
	if ar.Level == 5 {
		ks := cat.KPIsOf(catalog.ServiceRelease)
		n := 0
		for _, k := range ks {
			if s, ok := kpis.Org(k.ID); ok && s.Met {
				n++
			}
		}
		f = fraction(n, len(ks))
	}
	return (20*float64(ar.Level-1) + 20*f) / 100
}

func fraction(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// judge decides one criterion: level 1 is the baseline; measured evidence wins whenever the KPIs decide;
// otherwise a valid attestation does; an outdated one counts as not met.
func judge(c catalog.Criterion, rules []config.MeasuredRule, a *Assessment, kpis *kpi.Result, validity time.Duration, now time.Time) CriterionResult {
	cr := CriterionResult{Criterion: c, Evidence: None}
	if a != nil {
		if at, ok := a.Attestations[c.ID]; ok {
			cr.Attestation = &at
		}
	}
	if c.Level == 1 {
		cr.Met = true
		return cr
	}
	if len(rules) > 0 {
		var o outcome
		o, cr.Measurement = measure(rules, kpis)
		if o != noData {
			cr.Met, cr.Evidence = o == holds, Measured
			return cr
		}
	}
	if at := cr.Attestation; at != nil {
		if at.Expired(validity, now) {
			cr.Evidence = Expired
			return cr
		}
		cr.Met, cr.Evidence = at.Met, Attested
	}
	return cr
}
