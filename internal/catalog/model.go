// Package catalog is the Zero Trust Maturity Model for Automated Service Releases as data: its seven
// areas, their five maturity levels with the document's criteria, and every KPI of the document's
// section 5 with its target. It is the one source of truth for collectors, scoring, dashboards, rules
// and docs; nothing else in ztmm spells a KPI id, a target or a criterion text.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Area is one of the six Zero Trust pillars or the service release area. Its value is the `pillar`
// label of every ztmm series.
type Area string

// The seven areas, in the document's order.
const (
	Identities     Area = "identities"
	Endpoints      Area = "endpoints"
	Applications   Area = "applications"
	Infrastructure Area = "infrastructure"
	Data           Area = "data"
	Network        Area = "network"
	ServiceRelease Area = "service_release"
)

// Unit is the base unit of a KPI value.
type Unit string

// Units of KPI values; every value is in its base unit.
const (
	Seconds Unit = "seconds"
	Ratio   Unit = "ratio"
	PerDay  Unit = "per_day"
	Score   Unit = "score"
	Count   Unit = "count"
)

// Op is the comparison a KPI value must satisfy against its target.
type Op string

// Comparison operators.
const (
	LT Op = "<"
	LE Op = "<="
	GT Op = ">"
	GE Op = ">="
)

// Valid reports whether o is one of the four operators.
func (o Op) Valid() bool { return o == LT || o == LE || o == GT || o == GE }

// Holds reports whether value op target.
func (o Op) Holds(value, target float64) bool {
	switch o {
	case LT:
		return value < target
	case LE:
		return value <= target
	case GT:
		return value > target
	case GE:
		return value >= target
	}
	return false
}

// LowerIsBetter reports whether smaller values move towards the target.
func (o Op) LowerIsBetter() bool { return o == LT || o == LE }

// Origin says where a KPI comes from.
type Origin string

// KPI origins.
const (
	Document  Origin = "document"  // the document's section 5
	Indicator Origin = "indicator" // a supporting indicator that maturity criteria need; target is ours
)

// Statistic says how the events of a KPI's window become one value.
type Statistic string

// Statistics. The KPI engine implements the generic ones; DORA ones come from internal/dora.
const (
	Median Statistic = "median" // median of observations in the window, pooled over the scope
	Mean   Statistic = "mean"   // mean of observations in the window, pooled over the scope
	P95    Statistic = "p95"    // 95th percentile of observations in the window, pooled over the scope
	// PooledRatio is sum(numerator)/sum(denominator) over the scope's current counts.
	PooledRatio Statistic = "ratio"
	// Gauge is a current count summed over the scope.
	Gauge Statistic = "gauge"
	// Latest is the latest valid reported value (manual and PromQL sources).
	Latest Statistic = "latest"
	// Reduction is 1 − incidents(window)/baseline.
	Reduction Statistic = "reduction"
	// DORA statistics are defined by internal/dora (SPEC section 3).
	DORA Statistic = "dora"
)

// KPI is one key performance indicator with its target.
type KPI struct {
	ID        string
	Area      Area
	Name      string // the document's wording, verbatim
	Unit      Unit
	Op        Op
	Target    float64
	Origin    Origin
	Statistic Statistic
	// Definition is the one-line definition shown in docs and dashboards.
	Definition string
	// DocumentTarget is the target as the document states it, e.g. "<5 minutes".
	DocumentTarget string
	// Incidents is set on reduction KPIs: incidents attributed to this pillar are counted.
	Incidents bool
}

// Met reports whether value meets target with the KPI's operator.
func (k KPI) Met(value, target float64) bool { return k.Op.Holds(value, target) }

// Level is one maturity level of an area.
type Level struct {
	Number   int
	Name     string // "Traditional", "Managed", ...
	Stage    string // the document's parenthesised stage, e.g. "Initial"; empty for service release
	Criteria []Criterion
	// Readiness is the document's "Automated Service Release Readiness" band, service release only.
	Readiness string
}

// Criterion is one assessment criterion of a level, in the document's words.
type Criterion struct {
	ID    string // <area>.l<level>.<slug>
	Area  Area
	Level int
	Slug  string
	Text  string
}

// AreaDef is an area with its levels.
type AreaDef struct {
	ID          Area
	Title       string // "Identities", "Service release"
	Section     string // the document's section number
	Description string
	Levels      []Level // exactly five, index 0 is level 1
}

// Pillar reports whether the area is one of the six Zero Trust pillars (service release is not).
func (a AreaDef) Pillar() bool { return a.ID != ServiceRelease }

// Catalog is the compiled model.
type Catalog struct {
	areas    []AreaDef
	kpis     []KPI
	kpiByID  map[string]int
	critByID map[string]Criterion
}

var builtin = mustBuild()

// Default returns the built-in catalog. It is immutable; callers must not modify returned slices.
func Default() *Catalog { return builtin }

func mustBuild() *Catalog {
	c, err := build(areaDefs(), kpiDefs())
	if err != nil {
		panic(err)
	}
	return c
}

func build(areas []AreaDef, kpis []KPI) (*Catalog, error) {
	c := &Catalog{areas: areas, kpis: kpis, kpiByID: map[string]int{}, critByID: map[string]Criterion{}}
	areaSet := map[Area]bool{}
	for _, a := range areas {
		areaSet[a.ID] = true
		if len(a.Levels) != 5 {
			return nil, fmt.Errorf("area %s has %d levels, want 5", a.ID, len(a.Levels))
		}
		for i, l := range a.Levels {
			if l.Number != i+1 {
				return nil, fmt.Errorf("area %s level %d numbered %d", a.ID, i+1, l.Number)
			}
			for _, cr := range l.Criteria {
				if _, dup := c.critByID[cr.ID]; dup {
					return nil, fmt.Errorf("duplicate criterion id %s", cr.ID)
				}
				c.critByID[cr.ID] = cr
			}
		}
	}
	for i, k := range kpis {
		if _, dup := c.kpiByID[k.ID]; dup {
			return nil, fmt.Errorf("duplicate kpi id %s", k.ID)
		}
		if !areaSet[k.Area] {
			return nil, fmt.Errorf("kpi %s: unknown area %s", k.ID, k.Area)
		}
		if !k.Op.Valid() {
			return nil, fmt.Errorf("kpi %s: invalid op %q", k.ID, k.Op)
		}
		c.kpiByID[k.ID] = i
	}
	return c, nil
}

// Areas returns the seven areas in the document's order.
func (c *Catalog) Areas() []AreaDef { return c.areas }

// Area returns the area with the given id.
func (c *Catalog) Area(id Area) (AreaDef, bool) {
	for _, a := range c.areas {
		if a.ID == id {
			return a, true
		}
	}
	return AreaDef{}, false
}

// AreaIDs returns the ids of all seven areas.
func (c *Catalog) AreaIDs() []Area {
	ids := make([]Area, len(c.areas))
	for i, a := range c.areas {
		ids[i] = a.ID
	}
	return ids
}

// Pillars returns the six Zero Trust pillars (every area but service release).
func (c *Catalog) Pillars() []AreaDef {
	var out []AreaDef
	for _, a := range c.areas {
		if a.Pillar() {
			out = append(out, a)
		}
	}
	return out
}

// KPIs returns every KPI: the document's, then the indicators.
func (c *Catalog) KPIs() []KPI { return c.kpis }

// KPI returns the KPI with the given id.
func (c *Catalog) KPI(id string) (KPI, bool) {
	i, ok := c.kpiByID[id]
	if !ok {
		return KPI{}, false
	}
	return c.kpis[i], true
}

// KPIsOf returns the KPIs of one area in catalog order.
func (c *Catalog) KPIsOf(a Area) []KPI {
	var out []KPI
	for _, k := range c.kpis {
		if k.Area == a {
			out = append(out, k)
		}
	}
	return out
}

// KPIIDs returns all KPI ids, sorted.
func (c *Catalog) KPIIDs() []string {
	ids := make([]string, 0, len(c.kpis))
	for _, k := range c.kpis {
		ids = append(ids, k.ID)
	}
	sort.Strings(ids)
	return ids
}

// Criterion returns the criterion with the given id.
func (c *Catalog) Criterion(id string) (Criterion, bool) {
	cr, ok := c.critByID[id]
	return cr, ok
}

// Criteria returns every criterion of every area and level, in document order.
func (c *Catalog) Criteria() []Criterion {
	var out []Criterion
	for _, a := range c.areas {
		for _, l := range a.Levels {
			out = append(out, l.Criteria...)
		}
	}
	return out
}

// Closest returns the known id most like s, for "did you mean" hints, or "" if none is close.
func Closest(s string, known []string) string {
	best, bestD := "", len(s)/2+2
	for _, k := range known {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
