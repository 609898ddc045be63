// Package kpi is the KPI engine: it turns the sources' snapshots into one value per KPI and scope
// (organization, team, service), each against its target, as SPEC sections 1–3 define. It runs after
// every sync and on a short tick, never on a scrape.
package kpi

import (
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Sample is one KPI value for one scope. Team and Service empty is the organization; Service empty is a team.
type Sample struct {
	KPI     catalog.KPI
	Team    string
	Service string
	Value   float64
	Op      catalog.Op // after config overrides
	Target  float64    // after config overrides
	Met     bool
}

// Org reports whether the sample is an organization-wide value.
func (s Sample) Org() bool { return s.Team == "" && s.Service == "" }

// Result is every KPI value of one computation.
type Result struct {
	Time    time.Time
	Samples []Sample
	org     map[string]int
}

// Org returns the organization-wide sample of a KPI, if it has data.
func (r *Result) Org(kpi string) (Sample, bool) {
	if r == nil {
		return Sample{}, false
	}
	if r.org == nil { // a Result built by hand: scan rather than build an index a reader could race on
		for _, s := range r.Samples {
			if s.Org() && s.KPI.ID == kpi {
				return s, true
			}
		}
		return Sample{}, false
	}
	i, ok := r.org[kpi]
	if !ok {
		return Sample{}, false
	}
	return r.Samples[i], true
}

func (r *Result) index() {
	r.org = map[string]int{}
	for i, s := range r.Samples {
		if s.Org() {
			r.org[s.KPI.ID] = i
		}
	}
}
