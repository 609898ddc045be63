package dora

// This file is SPEC section 3 ("DORA definitions") as code, in the section's order. Each rule carries
// the spec's sentence above it; where the spec leaves a choice open, the comment says which one we made
// and why.

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

// The KPI ids Value computes: the catalog KPIs whose statistic is catalog.DORA.
const (
	deploymentFrequency            = "deployment_frequency"
	applicationDeploymentFrequency = "application_deployment_frequency"
	leadTimeForChanges             = "lead_time_for_changes"
	meanTimeToRecovery             = "mean_time_to_recovery"
	changeFailureRate              = "change_failure_rate"
	securityRelatedRollbackRate    = "security_related_rollback_rate"
	manualInterventionRate         = "manual_intervention_rate"
	automationSuccessRate          = "automation_success_rate"
)

// KPIs returns the ids of the KPIs Value computes, so the KPI engine can route catalog.DORA KPIs here and a
// test can keep this list and the catalog in step.
func KPIs() []string {
	return []string{deploymentFrequency, applicationDeploymentFrequency, leadTimeForChanges, meanTimeToRecovery,
		changeFailureRate, securityRelatedRollbackRate, manualInterventionRate, automationSuccessRate}
}

// Benchmark is the `benchmark` label value of the DORA performance levels PerformanceLevel implements.
const Benchmark = "2023"

// Analysis is the release history of every service with each deployment classified (rollback, failed,
// security-related rollback) and every recovery derived, indexed by time so that Value over a window costs
// a binary search per service rather than a scan of the whole history.
type Analysis struct {
	services []*service // sorted by name; includes "" when some event has no service
	pillars  map[catalog.Area][]time.Time
}

// service is one service's classified history. Every slice is sorted by its time.
type service struct {
	name       string
	deps       []deployment
	leads      []sample // lead time of each change, at its deployment's time
	recoveries []sample // recovery durations, at their completion time
	attempts   []attempt
	incidents  map[incidentKey]int // opened incidents, for ztmm_incidents_total
	// since is the first deployment or finished attempt: from then on the service deploys, so a window
	// without deployments is a true 0 rather than "no data".
	since time.Time
}

type deployment struct {
	time     time.Time
	manual   bool
	changes  int
	rollback bool
	// failed: rolled back by the next deployment or an incident attributed to it.
	failed bool
	// incidents and security say whether incidents (a security one) are attributed to this deployment.
	incidents int
	security  bool
	// securityRollback: this is a rollback whose failed deployment has a security incident attributed.
	securityRollback bool
}

type sample struct {
	time  time.Time
	value float64 // seconds
}

type attempt struct {
	time    time.Time
	success bool
}

type incidentKey struct {
	pillar   catalog.Area
	security bool
}

// Pair is two consecutive successful production deployments of one service.
type Pair struct{ Previous, Current Deployment }

// Pairs returns, for each service, consecutive successful production deployments (previous, current),
// ordered by service, then time (tie-break by ID), so a collector knows which compare(prev.SHA…cur.SHA)
// to fetch. The first deployment of a service has no pair. The ordering is the one Analyze uses, so the
// compare status a collector stores on Current is the one the engine reads.
func Pairs(deps []Deployment) []Pair {
	var out []Pair
	for _, ds := range byService(deps) {
		for i := 1; i < len(ds); i++ {
			out = append(out, Pair{Previous: *ds[i-1], Current: *ds[i]})
		}
	}
	return out
}

// byService groups deployments by service in time order (tie-break by ID: two deployments finishing in
// the same second still get one deterministic order). It drops repeats of the same upstream deployment
// (same service, ID and time) because overlapping pages or a merged input must not count a deployment
// twice. Groups are sorted by service and point into deps, which is not modified: sorting pointers
// rather than the structs keeps a year of an organization's deployments cheap to order.
func byService(deps []Deployment) [][]*Deployment {
	sorted := make([]*Deployment, len(deps))
	for i := range deps {
		sorted[i] = &deps[i]
	}
	slices.SortStableFunc(sorted, func(a, b *Deployment) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
	})
	sorted = slices.CompactFunc(sorted, func(a, b *Deployment) bool {
		return a.ID != "" && a.ID == b.ID && a.Service == b.Service && a.Time.Equal(b.Time)
	})
	var groups [][]*Deployment
	for start, i := 0, 1; i <= len(sorted); i++ {
		if i == len(sorted) || sorted[i].Service != sorted[start].Service {
			groups = append(groups, sorted[start:i])
			start = i
		}
	}
	return groups
}

// Analyze derives rollbacks, failed deployments and recoveries from the events of all services.
// attribution is the incident attribution window (config, default 7 days). The input is not modified.
func Analyze(in Input, attribution time.Duration) *Analysis {
	a := &Analysis{pillars: map[catalog.Area][]time.Time{}}
	byName := map[string]*service{}
	get := func(name string) *service {
		s := byName[name]
		if s == nil {
			s = &service{name: name, incidents: map[incidentKey]int{}}
			byName[name] = s
		}
		return s
	}
	seen := func(s *service, t time.Time) {
		if s.since.IsZero() || t.Before(s.since) {
			s.since = t
		}
	}

	// Incident: opened = created_at, resolved = closed_at; pillar and security from labels.
	incidents := map[string][]Incident{}
	for _, inc := range in.Incidents {
		if _, known := catalog.Default().Area(inc.Pillar); !known {
			// A misspelt pillar:<name> label must not become a label value or a KPI of its own.
			inc.Pillar = ""
		}
		incidents[inc.Service] = append(incidents[inc.Service], inc)
		s := get(inc.Service)
		s.incidents[incidentKey{inc.Pillar, inc.Security}]++
		if inc.Pillar != "" {
			a.pillars[inc.Pillar] = append(a.pillars[inc.Pillar], inc.Opened)
		}
	}
	for _, ts := range a.pillars {
		slices.SortFunc(ts, time.Time.Compare)
	}

	for _, ds := range byService(in.Deployments) {
		s := get(ds[0].Service)
		seen(s, ds[0].Time)
		s.deps = make([]deployment, len(ds))
		n := 0
		for _, d := range ds {
			n += len(d.Changes)
		}
		s.leads = make([]sample, 0, n)
		for i, d := range ds {
			dep := deployment{time: d.Time, manual: d.Manual}
			switch d.Status {
			// A redeploy of the same SHA has no changes; a rollback brings none either (the compare is
			// behind, its commits are the ones taken out). Status wins over a stray Changes list.
			case Identical:
			case Behind:
				// Rollback: a deployment whose SHA is an ancestor of the previous deployment's SHA. A
				// roll-forward afterwards, even to a SHA deployed before, compares ahead: not a rollback.
				dep.rollback = true
			default:
				// Changes: compare(p…d), or for the first deployment known, only its head commit (the
				// collector supplies exactly that, so both cases are the Changes as given).
				for _, c := range d.Changes {
					// Lead time = D.time − author date. An author date after the deployment can only be a
					// committer's skewed clock; the change did reach production, and fast, so it counts
					// as 0 rather than being dropped (dropping would bias the median towards slow changes).
					lead := max(d.Time.Sub(c.AuthorTime), 0)
					s.leads = append(s.leads, sample{d.Time, lead.Seconds()})
				}
				dep.changes = len(d.Changes)
			}
			s.deps[i] = dep
		}
	}

	for name, incs := range incidents {
		s := get(name)
		// Failed deployment: an incident of its service opened in [D.time, min(next deployment time,
		// D.time + attribution)). The windows of consecutive deployments are disjoint, so an incident
		// is attributed to at most one deployment: the last one at or before its opening.
		for _, inc := range incs {
			j := sort.Search(len(s.deps), func(i int) bool { return s.deps[i].time.After(inc.Opened) }) - 1
			if j >= 0 && inc.Opened.Before(s.deps[j].time.Add(attribution)) {
				s.deps[j].failed = true
				s.deps[j].incidents++
				s.deps[j].security = s.deps[j].security || inc.Security
			}
			// Recovery: for each resolved incident, closed_at − created_at.
			if !inc.Resolved.IsZero() {
				// Same upstream clock for both ends, so a negative value is bad data; clamp like lead time.
				s.recoveries = append(s.recoveries, sample{inc.Resolved, max(inc.Resolved.Sub(inc.Opened), 0).Seconds()})
			}
		}
	}

	for _, s := range byName {
		for i := 1; i < len(s.deps); i++ {
			if !s.deps[i].rollback {
				continue
			}
			prev := &s.deps[i-1]
			// Failed deployment: D was rolled back (the next deployment is a rollback).
			prev.failed = true
			// Recovery: for each rollback whose failed deployment has no incident attributed to it,
			// rollback time − failed deployment time (with an incident, the incident is the recovery).
			if prev.incidents == 0 {
				s.recoveries = append(s.recoveries, sample{s.deps[i].time, s.deps[i].time.Sub(prev.time).Seconds()})
			}
			s.deps[i].securityRollback = prev.security
		}
		// By value too, so that the mean's float sum does not depend on the order upstream listed events.
		slices.SortFunc(s.recoveries, func(x, y sample) int { return cmp.Or(x.time.Compare(y.time), cmp.Compare(x.value, y.value)) })
	}

	// A production deployment attempt is finished at its first terminal status; collectors hand over
	// only finished attempts.
	for _, at := range in.Attempts {
		s := get(at.Service)
		seen(s, at.Time)
		s.attempts = append(s.attempts, attempt{at.Time, at.Success})
	}
	for _, s := range byName {
		slices.SortStableFunc(s.attempts, func(x, y attempt) int { return x.time.Compare(y.time) })
		a.services = append(a.services, s)
	}
	slices.SortFunc(a.services, func(x, y *service) int { return cmp.Compare(x.name, y.name) })
	return a
}

// Services returns every service that has any event, sorted. Events without a service (organization-wide
// incidents) belong to no service and are not listed.
func (a *Analysis) Services() []string {
	var out []string
	for _, s := range a.services {
		if s.name != "" {
			out = append(out, s.name)
		}
	}
	return out
}

// Value computes one KPI over the events in the window (from, to] of the services inScope accepts.
//
// inScope reports whether a service belongs to the scope. It is also asked about "" (events without a
// service, e.g. an incident known only by its pillar): the organization scope accepts it, a team or
// service scope does not, so such events count only for the organization.
//
// The window is open at from and closed at to: an event exactly at `to` (now) counts, and consecutive
// windows (t−30d, t], (t, t+30d] never count an event twice. Each event is placed by one time: a
// deployment and its changes by the deployment time, a recovery by its completion, an attempt by its
// first terminal status.
//
// ok is false when the KPI has no data in that scope and window (a ratio without a denominator, a median
// of nothing, a frequency of a scope that has never deployed by `to`), never a fake 0; and for a KPI
// this package does not compute or an empty window.
func (a *Analysis) Value(kpi string, inScope func(service string) bool, from, to time.Time) (v float64, ok bool) {
	if !to.After(from) {
		return 0, false
	}
	days := to.Sub(from).Hours() / 24
	var scope []*service
	for _, s := range a.services {
		if inScope(s.name) {
			scope = append(scope, s)
		}
	}

	switch kpi {
	case deploymentFrequency:
		// Deployment frequency = deployments in window / window days; team and organization: the sum,
		// i.e. the pooled count over the same days.
		n, deploys := 0, false
		for _, s := range scope {
			deploys = deploys || s.deploys(to)
			n += len(s.depsIn(from, to))
		}
		return ratio(float64(n), days, deploys)

	case applicationDeploymentFrequency:
		// Per service: deployments/day. A scope of several services: the median over its services that
		// deploy (a first deployment or attempt by `to`), a service quiet in the window counting as 0, so
		// one busy service does not make a whole team look like it deploys daily. A scope of one service
		// is the median of one value: that service's own frequency.
		var per []float64
		for _, s := range scope {
			if s.deploys(to) {
				per = append(per, float64(len(s.depsIn(from, to)))/days)
			}
		}
		return median(per)

	case leadTimeForChanges:
		// Median over all changes whose deployment falls in the window, pooled over the scope: one
		// median over every change, not a median of the services' medians.
		var leads []float64
		for _, s := range scope {
			for _, l := range window(s.leads, from, to, sampleTime) {
				leads = append(leads, l.value)
			}
		}
		return median(leads)

	case meanTimeToRecovery:
		// Mean over recoveries completed in the window.
		n, sum := 0, 0.0
		for _, s := range scope {
			for _, r := range window(s.recoveries, from, to, sampleTime) {
				n++
				sum += r.value
			}
		}
		return ratio(sum, float64(n), n > 0)

	case changeFailureRate, securityRelatedRollbackRate, manualInterventionRate:
		// change_failure_rate = failed / deployments in window, each deployment counted once, at its
		// own time (a deployment that fails later still belongs to the window it was deployed in).
		// security_related_rollback_rate = rollbacks whose failed deployment is linked to a security
		// incident / deployments; manual_intervention_rate = manual deployments / deployments.
		n, hit := 0, 0
		for _, s := range scope {
			for _, d := range s.depsIn(from, to) {
				n++
				switch {
				case kpi == changeFailureRate && d.failed,
					kpi == securityRelatedRollbackRate && d.securityRollback,
					kpi == manualInterventionRate && d.manual:
					hit++
				}
			}
		}
		return ratio(float64(hit), float64(n), n > 0)

	case automationSuccessRate:
		// Finished with success / finished, placed at the time they finished. Failed attempts count
		// here and only here: they are not deployments.
		n, hit := 0, 0
		for _, s := range scope {
			for _, at := range window(s.attempts, from, to, attemptTime) {
				n++
				if at.success {
					hit++
				}
			}
		}
		return ratio(float64(hit), float64(n), n > 0)
	}
	return 0, false
}

// IncidentCount counts incidents attributed to pillar (a pillar:<name> label), opened in (from, to], for
// the *_incident_reduction KPIs. Those KPIs are organization-wide, so every incident counts, with or
// without a service, security label or not: the pillar label is what attributes it.
func (a *Analysis) IncidentCount(pillar catalog.Area, from, to time.Time) int {
	return len(window(a.pillars[pillar], from, to, func(t time.Time) time.Time { return t }))
}

// PerformanceLevel returns the DORA performance level (4 elite, 3 high, 2 medium, 1 low) of a value of
// deployment_frequency (per day), lead_time_for_changes (seconds), change_failure_rate (ratio) or
// mean_time_to_recovery (seconds) by the 2023 benchmark (SPEC section 3). ok is false for other KPIs and
// for NaN. A month is 30 days, the default window, so a service deploying once per window is "medium".
func PerformanceLevel(kpi string, value float64) (level int, ok bool) {
	if math.IsNaN(value) {
		return 0, false
	}
	const day = 86400.0
	var elite, high, medium bool
	switch kpi {
	case deploymentFrequency: // elite ≥ 1/day, high ≥ 1/week, medium ≥ 1/month
		elite, high, medium = value >= 1, value >= 1.0/7, value >= 1.0/30
	case leadTimeForChanges: // elite < 1 d, high < 7 d, medium < 30 d
		elite, high, medium = value < day, value < 7*day, value < 30*day
	case changeFailureRate: // elite ≤ 0.05, high ≤ 0.10, medium ≤ 0.15
		elite, high, medium = value <= 0.05, value <= 0.10, value <= 0.15
	case meanTimeToRecovery: // elite < 1 h, high < 1 d, medium < 7 d
		elite, high, medium = value < 3600, value < day, value < 7*day
	default:
		return 0, false
	}
	switch {
	case elite:
		return 4, true
	case high:
		return 3, true
	case medium:
		return 2, true
	}
	return 1, true
}

// deploys reports whether the service deploys by t (has a deployment or a finished attempt at or before
// it). Only events up to t count, so a value over (from, to] does not change when later events arrive.
func (s *service) deploys(t time.Time) bool { return !s.since.IsZero() && !s.since.After(t) }

func (s *service) depsIn(from, to time.Time) []deployment {
	return window(s.deps, from, to, func(d deployment) time.Time { return d.time })
}

func sampleTime(x sample) time.Time   { return x.time }
func attemptTime(x attempt) time.Time { return x.time }

// window returns the sub-slice of xs (sorted by at) in (from, to].
func window[T any](xs []T, from, to time.Time, at func(T) time.Time) []T {
	lo := sort.Search(len(xs), func(i int) bool { return at(xs[i]).After(from) })
	hi := sort.Search(len(xs), func(i int) bool { return at(xs[i]).After(to) })
	return xs[lo:max(lo, hi)]
}

func ratio(num, den float64, ok bool) (float64, bool) {
	if !ok || den == 0 {
		return 0, false
	}
	return num / den, true
}

// median sorts xs in place; it is absent for no values.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m], true
	}
	return (xs[m-1] + xs[m]) / 2, true
}
