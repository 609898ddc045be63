package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/ztmm/ztmm/internal/catalog"
)

// UIDs of the dashboards that are not per area. Area dashboards are "ztmm-" + the area id with dashes.
const (
	OverviewUID = "ztmm-overview"
	HealthUID   = "ztmm-exporter-health"
)

// AreaUID is the UID of an area's dashboard, e.g. ztmm-service-release.
func AreaUID(a catalog.Area) string { return "ztmm-" + strings.ReplaceAll(string(a), "_", "-") }

// doraKeys are the DORA four keys in the order leadership reads them: throughput, then stability.
var doraKeys = [...]string{"deployment_frequency", "lead_time_for_changes", "change_failure_rate", "mean_time_to_recovery"}

// overview is the executive overview: everything leadership needs on one screen (26 grid rows).
func overview(cat *catalog.Catalog) (dashboard.Dashboard, error) {
	b := newDashboard(OverviewUID, "ZTMM / Executive overview",
		"Zero Trust Maturity Model for Automated Service Releases: maturity per pillar against the roadmap, release readiness, KPIs against their targets and the DORA four keys. Team and service narrow the KPI panels; All is the organization.",
		"overview")
	scopeVariables(b)

	b.WithPanel(newStat("Maturity score", "Mean of the six pillars' continuous maturity scores (1.0–5.0): the level reached plus the share of the next level's criteria met.",
		bounded(units.NoUnit, 2, 1, 5), 4, 6, query(`ztmm_maturity_score`, "maturity score")).
		GraphMode(common.BigValueGraphModeArea).
		Thresholds(levelThresholds()))
	b.WithPanel(newTimeseries("Maturity score trend", "Overall and per-pillar maturity scores over the time range.",
		bounded(units.NoUnit, 2, 1, 5), 8, 6,
		query(`ztmm_maturity_score`, "overall"),
		query(`ztmm_pillar_maturity_score`, "{{pillar}}")).
		OverrideByName("overall", []dashboard.DynamicConfigValue{prop("custom.lineWidth", 3), prop("color", map[string]any{"mode": "fixed", "fixedColor": text})}))
	b.WithPanel(readinessGauge(cat, 4, 6))
	b.WithPanel(pillarLevels(cat, 8, 6))

	met := scoped(`ztmm_kpi_target_met`)
	b.WithPanel(newBarGauge("KPIs meeting their target, per pillar", "Share of the KPIs with a value at the selected scope that meet their target. KPIs without data are not counted; see the scorecard.",
		bounded(units.PercentUnit, 0, 0, 1), 12, 7,
		instant(fmt.Sprintf("sum by (pillar) (%s)\n/\ncount by (pillar) (%s)", met, met), "{{pillar}}")).
		Thresholds(steps(red, 0.5, orange, 0.8, yellow, 1.0, green)).
		ColorScheme(colorBy(dashboard.FieldColorModeIdThresholds)))
	b.WithPanel(newStat("KPIs meeting target", "KPIs whose value at the selected scope meets its target.",
		format{unit: units.NoUnit}, 4, 7, instant(fmt.Sprintf("sum(%s)", met), "met")).
		ColorScheme(fixedColor(green)))
	b.WithPanel(newStat("KPIs breaching target", "KPIs whose value at the selected scope breaches its target.",
		format{unit: units.NoUnit}, 4, 7, instant(fmt.Sprintf("count(%s) - sum(%s)", met, met), "breached")).
		Thresholds(steps(green, 1.0, red)))
	b.WithPanel(newStat("KPIs without data", "Catalog KPIs with no value at the selected scope: no source configured, no events in the window, or (reduction KPIs) no baseline.",
		format{unit: units.NoUnit}, 4, 7, instant(fmt.Sprintf("count(ztmm_kpi_info) - (count(%s) or vector(0))", scoped(`ztmm_kpi_value`)), "no data")).
		Thresholds(steps(green, 1.0, orange)))

	for _, sc := range scorecards(cat, "") {
		b.WithPanel(sc)
	}
	for _, key := range doraKeys {
		k, _ := cat.KPI(key)
		b.WithPanel(kpiStat(k, 3, 4))
		b.WithPanel(doraLevelStat(k, 3, 4))
	}
	return finish(b)
}

// levelThresholds colours maturity levels and scores: the further from Optimizing, the warmer.
func levelThresholds() *dashboard.ThresholdsConfigBuilder {
	return steps(red, 2.0, orange, 3.0, yellow, 4.0, green)
}

// readinessGauge shows release readiness in the document's bands, one colour per service release level.
func readinessGauge(cat *catalog.Catalog, w, h uint32) *gaugeBuilder {
	sr, _ := cat.Area(catalog.ServiceRelease)
	var bands []string
	for _, l := range sr.Levels {
		bands = append(bands, fmt.Sprintf("%s %s", l.Name, l.Readiness))
	}
	return newGauge("Release readiness", "Automated service release readiness (SPEC section 4). The document's bands: "+strings.Join(bands, ", ")+".",
		bounded(units.PercentUnit, 0, 0, 1), w, h, instant(`ztmm_release_readiness_ratio`, "readiness")).
		Thresholds(steps(red, 0.2, orange, 0.4, yellow, 0.6, blue, 0.8, green))
}

// pillarLevels is the table of each area's level against its roadmap target level.
func pillarLevels(cat *catalog.Catalog, w, h uint32) *table.PanelBuilder {
	return newTable("Maturity level per pillar", "Staged level reached (1–5), the roadmap's target level, and the gap: negative means below target.", w, h,
		tableQuery(`ztmm_pillar_maturity_level`),
		tableQuery(`ztmm_pillar_maturity_target_level`),
		tableQuery(`ztmm_pillar_maturity_level - ztmm_pillar_maturity_target_level`),
		tableQuery(`ztmm_pillar_maturity_score`)).
		WithTransformation(transform("merge", map[string]any{})).
		WithTransformation(organize(append(hiddenLabels(), "__name__"),
			map[string]string{"pillar": "Pillar", "Value #A": "Level", "Value #B": "Target", "Value #C": "Gap", "Value #D": "Score"},
			[]string{"pillar", "Value #A", "Value #B", "Value #C", "Value #D"})).
		Decimals(0).
		Overrides([]cogOverride{
			byName("Pillar", prop("mappings", areaTitleMapping(cat))),
			byName("Gap", colouredCells(), prop("thresholds", thresholdsValue(steps(red, 0.0, green)))),
			byName("Score", prop("decimals", 2)),
		})
}

// hiddenLabels are the labels Prometheus adds at scrape time: they identify the exporter, not the model.
func hiddenLabels() []string { return []string{"Time", "job", "instance"} }

// areaTitleMapping shows area ids as the document's titles.
func areaTitleMapping(cat *catalog.Catalog) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i, a := range cat.Areas() {
		opts[string(a.ID)] = dashboard.ValueMappingResult{Text: ptr(a.Title), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// scoreGroup is one scorecard table: Grafana units are per column, not per row, so KPIs are grouped by
// unit and each table formats its value and target columns with its unit.
type scoreGroup struct {
	title string
	units []catalog.Unit
	f     format
	w     uint32
}

var scoreGroups = []scoreGroup{
	{"Scorecard: rates", []catalog.Unit{catalog.Ratio}, formatOf(catalog.Ratio), 10},
	{"Scorecard: durations", []catalog.Unit{catalog.Seconds}, formatOf(catalog.Seconds), 8},
	{"Scorecard: frequencies, scores, counts", []catalog.Unit{catalog.PerDay, catalog.Score, catalog.Count}, format{unit: units.NoUnit, decimals: 2}, 6},
}

// scorecards are the KPI scorecard tables (pillar, KPI, target, value, met) at the selected scope, for
// one area or, with area "", for all. Groups without a KPI in the area are left out and the remaining
// tables share the full width.
func scorecards(cat *catalog.Catalog, area catalog.Area) []*table.PanelBuilder {
	var groups []scoreGroup
	for _, g := range scoreGroups {
		for _, k := range cat.KPIs() {
			if (area == "" || k.Area == area) && containsUnit(g.units, k.Unit) {
				groups = append(groups, g)
				break
			}
		}
	}
	var total uint32
	for _, g := range groups {
		total += g.w
	}
	var out []*table.PanelBuilder
	var used uint32
	for i, g := range groups {
		w := g.w * 24 / total
		if i == len(groups)-1 {
			w = 24 - used
		}
		used += w
		out = append(out, scorecard(cat, g, area, w))
	}
	return out
}

func containsUnit(us []catalog.Unit, u catalog.Unit) bool {
	for _, x := range us {
		if x == u {
			return true
		}
	}
	return false
}

func scorecard(cat *catalog.Catalog, g scoreGroup, area catalog.Area, w uint32) *table.PanelBuilder {
	var us []string
	for _, u := range g.units {
		us = append(us, string(u))
	}
	info := []string{`unit=~"` + strings.Join(us, "|") + `"`}
	if area != "" {
		info = append(info, `pillar="`+string(area)+`"`)
	}
	infoSel := fmt.Sprintf("ztmm_kpi_info{%s}", sel(info...))
	join := func(expr string) string {
		return fmt.Sprintf("%s\n* on (pillar, kpi) group_left (name, op, unit)\n%s", expr, infoSel)
	}
	hide := append(hiddenLabels(), "kpi", "__name__")
	order := []string{"pillar", "name", "op", "Value #B", "Value #A", "Value #C", "unit"}
	if len(g.units) == 1 {
		hide = append(hide, "unit")
	}
	if area != "" {
		hide = append(hide, "pillar")
	}
	h := uint32(9)
	if area != "" {
		h = 7
	}
	p := newTable(g.title, "Each KPI's value at the selected scope against its target (after configuration overrides). Empty value: no data at this scope.", w, h,
		tableQuery(join(fmt.Sprintf("max by (pillar, kpi) %s", scoped(`ztmm_kpi_value`)))),
		tableQuery(join(`max by (pillar, kpi) (ztmm_kpi_target)`)),
		tableQuery(join(fmt.Sprintf("max by (pillar, kpi) %s", scoped(`ztmm_kpi_target_met`))))).
		WithTransformation(transform("merge", map[string]any{})).
		WithTransformation(organize(hide,
			map[string]string{"pillar": "Pillar", "name": "KPI", "op": "Op", "unit": "Unit", "Value #A": "Value", "Value #B": "Target", "Value #C": "Met"},
			order)).
		Overrides([]cogOverride{
			byName("Pillar", prop("mappings", areaTitleMapping(cat)), prop("custom.width", 110)),
			byName("Op", prop("custom.width", 40)),
			byName("Value", prop("unit", g.f.unit), prop("decimals", g.f.decimals)),
			byName("Target", prop("unit", g.f.unit), prop("decimals", g.f.decimals)),
			byName("Met", colouredCells(), prop("mappings", metMapping("met", "breached")), prop("custom.width", 80)),
			byName("Unit", prop("mappings", []dashboard.ValueMapping{valueText("per_day", "/day", text, "score", "score", text, "count", "count", text)}), prop("custom.width", 60)),
		}).
		SortBy([]cogSort{common.NewTableSortByFieldStateBuilder().DisplayName("Met")})
	return p
}

// kpiStat is a KPI's current value at the selected scope, coloured by its catalog target.
func kpiStat(k catalog.KPI, w, h uint32) *statBuilder {
	f := formatOf(k.Unit)
	return newStat(k.Name, kpiDescription(k), f, w, h, instant(scoped(`ztmm_kpi_value`, `kpi="`+k.ID+`"`), k.ID)).
		Thresholds(kpiThresholds(k)).
		ColorScheme(colorBy(dashboard.FieldColorModeIdThresholds)).
		ColorMode(common.BigValueColorModeBackground)
}

// doraLevelStat is the DORA performance level of one of the four keys at the selected scope.
func doraLevelStat(k catalog.KPI, w, h uint32) *statBuilder {
	return newStat(k.Name+": DORA level", "DORA 2023 performance level of "+k.Name+" at the selected scope (elite, high, medium, low).",
		format{unit: units.NoUnit}, w, h,
		instant(scoped(`ztmm_dora_performance_level`, `metric="`+k.ID+`"`, `benchmark="2023"`), k.ID)).
		Mappings(doraLevelMapping()).
		ColorMode(common.BigValueColorModeBackground)
}

// kpiDescription is the panel help: the definition and the target, from the catalog.
func kpiDescription(k catalog.KPI) string {
	d := fmt.Sprintf("%s. Target %s %v %s (catalog default; configuration may override it, the target series shows the effective one).", k.Definition, k.Op, k.Target, k.Unit)
	if k.DocumentTarget != "" {
		d += " Document target: " + k.DocumentTarget + "."
	}
	return d
}
