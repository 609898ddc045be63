package kpi

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
)

// scope is an organization, a team or a service, with the test of which services it pools.
type scope struct {
	team, service string
	has           func(service string) bool
}

// Compute turns the last good snapshots of all sources into one value per KPI and scope, as of now.
// DORA events of every source are merged first, so team and organization values pool GitHub and GitLab.
func Compute(cat *catalog.Catalog, cfg *config.Config, snaps []*collectors.Snapshot, now time.Time) (*Result, *dora.Analysis) {
	var inputs []dora.Input
	for _, s := range snaps {
		inputs = append(inputs, s.DORA)
	}
	analysis := dora.Analyze(dora.Merge(inputs...), cfg.AttributionWindow.D())
	scopes := scopesOf(cfg, snaps, analysis)

	obs := map[string][]collectors.Observation{}
	counts := map[string][]collectors.Count{}
	explicit := map[string]map[[2]string]collectors.Value{} // kpi → (team, service) → latest value
	for _, s := range snaps {
		for _, o := range s.Observations {
			obs[o.KPI] = append(obs[o.KPI], o)
		}
		for _, c := range s.Counts {
			counts[c.KPI] = append(counts[c.KPI], c)
		}
		for _, v := range s.Values {
			if v.Time.IsZero() {
				v.Time = s.Time
			}
			// A service series carries its team (SPEC section 2), and config owns team membership: a source
			// naming another team for a configured service would otherwise split it into two series.
			if v.Service != "" {
				if t := cfg.TeamOf(v.Service); t != "" || v.Team == "" {
					v.Team = t
				}
			}
			m := explicit[v.KPI]
			if m == nil {
				m = map[[2]string]collectors.Value{}
				explicit[v.KPI] = m
			}
			key := [2]string{v.Team, v.Service}
			if old, ok := m[key]; !ok || v.Time.After(old.Time) {
				m[key] = v
			}
		}
	}

	res := &Result{Time: now}
	for _, k := range cat.KPIs() {
		op, target := cfg.Target(k)
		from := now.Add(-cfg.WindowOf(k.ID))
		emit := func(team, service string, v float64) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return
			}
			res.Samples = append(res.Samples, Sample{KPI: k, Team: team, Service: service, Value: v, Op: op, Target: target, Met: op.Holds(v, target)})
		}
		// Values from PromQL or manual measurements are what the user asked for explicitly: they take the
		// scope they name, and a computed value for the same scope gives way.
		given := explicit[k.ID]
		for _, sc := range scopes {
			if v, ok := given[[2]string{sc.team, sc.service}]; ok {
				emit(sc.team, sc.service, v.Value)
				continue
			}
			if v, ok := computed(k, sc, cfg, analysis, obs[k.ID], counts[k.ID], from, now); ok {
				emit(sc.team, sc.service, v)
				continue
			}
			if v, ok := meanOfServices(given, sc); ok && k.Statistic == catalog.Latest {
				emit(sc.team, sc.service, v)
			}
		}
		// Explicit values for scopes ztmm does not otherwise know (a team not in config, say).
		for key, v := range given {
			if !slices.ContainsFunc(scopes, func(sc scope) bool { return sc.team == key[0] && sc.service == key[1] }) {
				emit(key[0], key[1], v.Value)
			}
		}
	}
	sort.SliceStable(res.Samples, func(i, j int) bool {
		a, b := res.Samples[i], res.Samples[j]
		if a.KPI.ID != b.KPI.ID {
			return a.KPI.ID < b.KPI.ID
		}
		if a.Team != b.Team {
			return a.Team < b.Team
		}
		return a.Service < b.Service
	})
	res.index()
	return res, analysis
}

func computed(k catalog.KPI, sc scope, cfg *config.Config, a *dora.Analysis, obs []collectors.Observation, counts []collectors.Count, from, to time.Time) (float64, bool) {
	switch k.Statistic {
	case catalog.DORA:
		return a.Value(k.ID, sc.has, from, to)
	case catalog.Median, catalog.Mean, catalog.P95:
		var vs []float64
		for _, o := range obs {
			if o.Time.After(from) && !o.Time.After(to) && sc.has(o.Service) {
				vs = append(vs, o.Value)
			}
		}
		return statistic(k.Statistic, vs)
	case catalog.PooledRatio, catalog.Gauge:
		var num, den float64
		n := 0
		for _, c := range counts {
			if sc.has(c.Service) {
				num, den, n = num+c.Numerator, den+c.Denominator, n+1
			}
		}
		if n == 0 {
			return 0, false
		}
		if k.Statistic == catalog.Gauge {
			return num, true
		}
		if den == 0 {
			return 0, false
		}
		return num / den, true
	case catalog.Reduction:
		// Baselines are organization-wide: the programme's starting point, not a team's.
		baseline, ok := cfg.Baselines[k.ID]
		if !ok || sc.team != "" || sc.service != "" {
			return 0, false
		}
		return 1 - float64(a.IncidentCount(k.Area, from, to))/baseline, true
	}
	return 0, false
}

// meanOfServices is the team or organization value of a reported KPI that only has per-service values
// (availability from probe_success by service, say): the mean over the scope's services, which is what
// pooling equally weighted per-service samples gives. It never overrides a value reported for the scope.
func meanOfServices(given map[[2]string]collectors.Value, sc scope) (float64, bool) {
	if sc.service != "" {
		return 0, false
	}
	sum, n := 0.0, 0
	for key, v := range given {
		if key[1] != "" && sc.has(key[1]) {
			sum, n = sum+v.Value, n+1
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// statistic reduces pooled observations; no observation is no value, never 0.
func statistic(s catalog.Statistic, vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	switch s {
	case catalog.Mean:
		sum := 0.0
		for _, v := range vs {
			sum += v
		}
		return sum / float64(len(vs)), true
	case catalog.P95:
		return Quantile(vs, 0.95), true
	}
	return Quantile(vs, 0.5), true
}

// Quantile is the q-quantile of vs with linear interpolation between closest ranks (the median of an even
// count is the mean of the middle two). vs is not modified.
func Quantile(vs []float64, q float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// scopesOf lists the organization, every configured team, and every service any source knows.
func scopesOf(cfg *config.Config, snaps []*collectors.Snapshot, a *dora.Analysis) []scope {
	services := map[string]bool{}
	for _, s := range a.Services() {
		services[s] = true
	}
	for _, s := range snaps {
		for _, o := range s.Observations {
			services[o.Service] = true
		}
		for _, c := range s.Counts {
			services[c.Service] = true
		}
	}
	delete(services, "")
	out := []scope{{has: func(string) bool { return true }}}
	for _, t := range cfg.TeamNames() {
		out = append(out, scope{team: t, has: func(s string) bool { return s != "" && cfg.TeamOf(s) == t }})
	}
	names := make([]string, 0, len(services))
	for s := range services {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		out = append(out, scope{team: cfg.TeamOf(s), service: s, has: func(x string) bool { return x == s }})
	}
	return out
}
