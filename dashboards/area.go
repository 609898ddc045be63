package dashboards

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/ztmm/ztmm/internal/catalog"
)

// area is the dashboard of one pillar or of service release: maturity and criteria, the scorecard, then
// one row per KPI (value, history against target, breakdowns, raw metrics behind it).
func area(cat *catalog.Catalog, a catalog.AreaDef) (dashboard.Dashboard, error) {
	kind := "pillar"
	if !a.Pillar() {
		kind = "service-release"
	}
	b := newDashboard(AreaUID(a.ID), "ZTMM / "+a.Title,
		fmt.Sprintf("%s (document section %s): %s. Maturity criteria with their evidence, and every KPI against its target by team and service.", a.Title, a.Section, a.Description),
		kind)
	scopeVariables(b)
	pillar := `pillar="` + string(a.ID) + `"`

	b.WithRow(row("Maturity"))
	head := []cogPanel{
		newStat("Maturity level", "Staged level: the highest level whose criteria, and those of every level below, are all met.",
			format{unit: units.NoUnit}, 4, 4, instant(`ztmm_pillar_maturity_level{`+pillar+`}`, "level")).
			Mappings(levelMapping(a)).Thresholds(levelThresholds()).ColorMode(common.BigValueColorModeBackground),
		newStat("Target level", "Target level from the roadmap in the configuration.",
			format{unit: units.NoUnit}, 4, 4, instant(`ztmm_pillar_maturity_target_level{`+pillar+`}`, "target")).
			Mappings(levelMapping(a)).ColorScheme(fixedColor(text)),
		newStat("Maturity score", "Level plus the share of the next level's criteria met (1.0–5.0).",
			bounded(units.NoUnit, 2, 1, 5), 4, 4, query(`ztmm_pillar_maturity_score{`+pillar+`}`, "score")).
			GraphMode(common.BigValueGraphModeArea).Thresholds(levelThresholds()),
	}
	if a.ID == catalog.ServiceRelease {
		head = append(head, readinessGauge(cat, 4, 4))
	} else {
		head = append(head, newStat("Criteria met", "Criteria of all five levels met, by measured or attested evidence.",
			format{unit: units.NoUnit}, 4, 4, instant(`sum(ztmm_maturity_criterion_met{`+pillar+`})`, "met")).
			ColorScheme(fixedColor(text)))
	}
	met := scoped(`ztmm_kpi_target_met`, pillar)
	head = append(head,
		newStat("KPIs meeting target", "KPIs of this area whose value at the selected scope meets its target.",
			format{unit: units.NoUnit}, 4, 4, instant(fmt.Sprintf("sum(%s)", met), "met")).
			ColorScheme(fixedColor(green)),
		newStat("KPIs breaching target", "KPIs of this area whose value at the selected scope breaches its target.",
			format{unit: units.NoUnit}, 4, 4, instant(fmt.Sprintf("count(%s) - sum(%s)", met, met), "breached")).
			Thresholds(steps(green, 1.0, red)))
	for _, p := range head {
		b.WithPanel(p)
	}
	b.WithPanel(criteriaTable(a, 24, 12))

	b.WithRow(row("Scorecard"))
	for _, sc := range scorecards(cat, a.ID) {
		b.WithPanel(sc)
	}

	if a.ID == catalog.ServiceRelease {
		releaseRows(b)
	}
	for _, k := range cat.KPIsOf(a.ID) {
		b.WithRow(row(fmt.Sprintf("%s (%s %s)", k.Name, k.Op, targetText(k))))
		for _, p := range kpiPanels(k) {
			b.WithPanel(p)
		}
	}
	return finish(b)
}

// cogPanel is any panel builder.
type cogPanel = interface {
	Build() (dashboard.Panel, error)
}

// targetText is a target in words for row titles: durations and percentages the way people say them.
func targetText(k catalog.KPI) string {
	switch k.Unit {
	case catalog.Seconds:
		return humanSeconds(k.Target)
	case catalog.Ratio:
		return strconv.FormatFloat(k.Target*100, 'f', -1, 64) + "%"
	case catalog.PerDay:
		return strconv.FormatFloat(k.Target, 'f', -1, 64) + "/day"
	}
	return strconv.FormatFloat(k.Target, 'f', -1, 64)
}

func humanSeconds(s float64) string {
	for _, u := range []struct {
		n    float64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "min"}} {
		if s >= u.n && float64(int64(s/u.n))*u.n == s {
			return strconv.FormatInt(int64(s/u.n), 10) + " " + u.name
		}
	}
	return strconv.FormatFloat(s, 'f', -1, 64) + " s"
}

// levelMapping names an area's levels, e.g. 2 → "2 · Managed".
func levelMapping(a catalog.AreaDef) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i, l := range a.Levels {
		opts[strconv.Itoa(l.Number)] = dashboard.ValueMappingResult{Text: ptr(fmt.Sprintf("%d · %s", l.Number, l.Name)), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// criteriaTable lists every criterion of the area with its evidence. The criterion column shows the
// document's text through a value mapping of the stable id, so the exposition keeps short labels.
func criteriaTable(a catalog.AreaDef, w, h uint32) *table.PanelBuilder {
	texts := map[string]dashboard.ValueMappingResult{}
	i := int32(0)
	for _, l := range a.Levels {
		for _, c := range l.Criteria {
			texts[c.ID] = dashboard.ValueMappingResult{Text: ptr(c.Text), Index: ptr(i)}
			i++
		}
	}
	return newTable("Criteria per level", "The document's assessment criteria. Evidence: measured (a rule over KPIs), attested (assessment file, within its validity), expired (attestation too old: not met), none.", w, h,
		tableQuery(`ztmm_maturity_criterion_met{pillar="`+string(a.ID)+`"}`)).
		WithTransformation(organize(append(hiddenLabels(), "__name__", "pillar"),
			map[string]string{"level": "Level", "criterion": "Criterion", "evidence": "Evidence", "Value": "Met"},
			[]string{"level", "criterion", "evidence", "Value"})).
		Overrides([]cogOverride{
			byName("Level", prop("mappings", levelMapping(a)), prop("custom.width", 220)),
			byName("Criterion", prop("mappings", []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: texts}}})),
			byName("Evidence", colouredCells(), prop("custom.width", 110), prop("mappings", []dashboard.ValueMapping{
				valueText("measured", "measured", green, "attested", "attested", blue, "expired", "expired", orange, "none", "none", "transparent"),
			})),
			byName("Met", colouredCells(), prop("custom.width", 90), prop("mappings", metMapping("met", "not met"))),
		}).
		SortBy([]cogSort{common.NewTableSortByFieldStateBuilder().DisplayName("Level")})
}

// kpiPanels are one KPI's row: its value now, its history against the target, the breakdowns by team and
// by service where the KPI has them, then the raw metrics it is computed from where the exporter exposes
// them.
func kpiPanels(k catalog.KPI) []cogPanel {
	f := formatOf(k.Unit)
	kpi := `kpi="` + k.ID + `"`
	historyWidth := uint32(20)
	if byScope(k) {
		historyWidth = 8
	}
	out := []cogPanel{
		kpiStat(k, 4, 7).Title("Now"),
		newTimeseries("History", kpiDescription(k), f, historyWidth, 7,
			query(scoped(`ztmm_kpi_value`, kpi), "value"),
			query(`max(ztmm_kpi_target{`+kpi+`})`, "target")).
			Thresholds(kpiThresholds(k)).
			OverrideByName("target", []dashboard.DynamicConfigValue{
				prop("custom.lineStyle", map[string]any{"fill": "dash", "dash": []int{10, 10}}),
				prop("custom.fillOpacity", 0),
				prop("color", map[string]any{"mode": "fixed", "fixedColor": text}),
			}),
	}
	if byScope(k) {
		out = append(out,
			newBarGauge("By team", "Each team's pooled value.", f, 6, 7, instant(byTeam(`ztmm_kpi_value`, kpi), "{{team}}")).
				Thresholds(kpiThresholds(k)).ColorScheme(colorBy(dashboard.FieldColorModeIdThresholds)),
			newBarGauge("By service", "Each service's value: the selected team's services, or all services.", f, 6, 7, instant(byService(`ztmm_kpi_value`, kpi), "{{service}}")).
				Thresholds(kpiThresholds(k)).ColorScheme(colorBy(dashboard.FieldColorModeIdThresholds)))
	}
	return append(out, rawPanels(k)...)
}

// byScope reports whether a KPI has team and service values: those computed from events that belong to a
// repository (Git hosts, pipelines, repository scanners), i.e. the DORA statistics and the measured KPIs
// of applications and service release, and infrastructure provisioning (IaC pipeline runs). Identity
// providers, device managers, clusters, manual and PromQL values and incident baselines are
// organization-wide, so a breakdown panel would only ever say "no data".
func byScope(k catalog.KPI) bool {
	switch k.Statistic {
	case catalog.DORA:
		return true
	case catalog.Latest, catalog.Reduction:
		return false
	}
	return k.Area == catalog.Applications || k.Area == catalog.ServiceRelease || k.ID == "infrastructure_provisioning_time"
}
