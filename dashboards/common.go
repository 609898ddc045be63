package dashboards

import (
	"math"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Tag is carried by every ztmm dashboard; the dashboards' links menu lists the dashboards with it.
const Tag = "ztmm"

// Semantic colour names resolve per theme, so every panel reads well in light and dark mode.
const (
	green  = "green"
	red    = "red"
	orange = "orange"
	yellow = "yellow"
	blue   = "blue"
	text   = "text"
)

// datasource is the panels' and variables' data source: always the dashboard's variable, never a UID,
// so a dashboard works in any Grafana whatever its Prometheus data source is called.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// newDashboard starts a dashboard with the settings every ztmm dashboard shares.
func newDashboard(uid, title, description string, tags ...string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{Tag}, tags...)).
		Timezone("browser").
		Time("now-30d", "now").
		Refresh("5m").
		Readonly().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("ZTMM").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus").
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("default")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("default")},
			}))
}

// allValue is what the team and service variables send when "All" is selected: a regex that matches
// only the empty label value. Organization series have team="" and service="", team series service="",
// so "All" selects the organization's own pooled value (SPEC section 2) rather than every series; see
// scoped and scopedSum for how a query turns the two variables into one scope.
const allValue = "^$"

// scopeVariables adds team and service. Both list every value (service is not chained to team: a
// service alone selects it whatever the team). includeAll makes Grafana regex-escape the selected
// value, so queries match them with =~ and a service name with dots or pluses stays literal.
func scopeVariables(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	for _, v := range []struct{ name, label, help string }{
		{"team", "Team", "All: the organization. A team: its pooled value and its services."},
		{"service", "Service", "All: the organization or the selected team. A service: that service, whatever the team."},
	} {
		b.WithVariable(dashboard.NewQueryVariableBuilder(v.name).
			Label(v.label).
			Description(v.help).
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(ztmm_kpi_value{` + v.name + `!=""}, ` + v.name + `)`)}).
			Definition(`label_values(ztmm_kpi_value{` + v.name + `!=""}, ` + v.name + `)`).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			IncludeAll(true).
			AllValue(allValue).
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
			}))
	}
	return b
}

// query is a range query, for time series.
func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Range().Datasource(datasource())
}

// instant is an instant query, for stats, gauges and bar gauges that show the current value.
func instant(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Instant().Datasource(datasource())
}

// tableQuery is an instant query whose labels become table columns.
func tableQuery(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).Instant().Format(prometheus.PromQueryFormatTable).Datasource(datasource())
}

// targets names the queries A, B, C… in order, because overrides and transformations refer to them.
func targets(qs ...*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		out[i] = q.RefId(string(rune('A' + i)))
	}
	return out
}

// format is how a value is shown: Grafana unit, decimals and, for bounded values, the range.
type format struct {
	unit     string
	decimals float64
	min, max *float64
}

func bounded(unit string, decimals, lo, hi float64) format {
	return format{unit: unit, decimals: decimals, min: &lo, max: &hi}
}

// perDay is Grafana's custom-suffix unit: deployments per day has no built-in unit.
const perDay = "suffix:/day"

// formatOf maps a catalog unit to its display: seconds as durations, ratios as percent (by unit, never
// by multiplying in PromQL), per-day rates with a /day suffix.
func formatOf(u catalog.Unit) format {
	switch u {
	case catalog.Seconds:
		return format{unit: units.Seconds, decimals: 1}
	case catalog.Ratio:
		return bounded(units.PercentUnit, 2, 0, 1)
	case catalog.PerDay:
		return format{unit: perDay, decimals: 2}
	case catalog.Score:
		return format{unit: units.NoUnit, decimals: 2}
	}
	return format{unit: units.NoUnit, decimals: 0}
}

// kpiThresholds colours a KPI's value by whether it meets the catalog target: green on the met side, red
// on the breached side. Grafana starts a step at its value inclusively, so a strict "> t" or an inclusive
// "<= t" starts its second step at the next float above t to keep t itself on the right side.
func kpiThresholds(k catalog.KPI) *dashboard.ThresholdsConfigBuilder {
	base, above := green, red
	if !k.Op.LowerIsBetter() {
		base, above = red, green
	}
	step := k.Target
	if k.Op == catalog.GT || k.Op == catalog.LE {
		step = math.Nextafter(step, math.Inf(1))
	}
	return steps(base, step, above)
}

// steps builds absolute thresholds: base colour, then alternating value and colour.
func steps(base string, rest ...any) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(rest); i += 2 {
		v := rest[i].(float64)
		s = append(s, dashboard.Threshold{Value: &v, Color: rest[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

func colorBy(mode dashboard.FieldColorModeId) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(mode)
}

func fixedColor(c string) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor(c)
}

// valueText maps exact values to text and colour, e.g. 1 → "met" in green.
func valueText(pairs ...string) dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i := 0; i+2 < len(pairs); i += 3 {
		opts[pairs[i]] = dashboard.ValueMappingResult{Text: cog.ToPtr(pairs[i+1]), Color: cog.ToPtr(pairs[i+2]), Index: cog.ToPtr(int32(i / 3))}
	}
	return dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}
}

// metMapping shows ztmm_kpi_target_met and ztmm_maturity_criterion_met as words in their colours.
func metMapping(yes, no string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{valueText("1", yes, green, "0", no, red)}
}

// doraLevelMapping names the DORA performance levels of ztmm_dora_performance_level.
func doraLevelMapping() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{valueText("4", "Elite", green, "3", "High", blue, "2", "Medium", orange, "1", "Low", red)}
}

func reduceLast() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

func prop(id string, v any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: v}
}

// byName builds a field override by exact display name.
func byName(name string, props ...dashboard.DynamicConfigValue) cog.Builder[dashboard.DashboardFieldConfigSourceOverrides] {
	return dashboard.NewDashboardFieldConfigSourceOverridesBuilder().
		Matcher(dashboard.MatcherConfig{Id: "byName", Options: name}).
		Properties(props)
}

func transform(id string, options any) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: id, Options: options}
}

// organize hides, renames and orders table columns by field name.
func organize(hide []string, rename map[string]string, order []string) dashboard.DataTransformerConfig {
	ex := map[string]bool{}
	for _, h := range hide {
		ex[h] = true
	}
	idx := map[string]int{}
	for i, o := range order {
		idx[o] = i
	}
	return transform("organize", map[string]any{"excludeByName": ex, "renameByName": rename, "indexByName": idx})
}

// title makes "service_release" read "Service release" where no catalog title is at hand.
func title(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Short names for the SDK's long generic builder types.
type (
	statBuilder  = stat.PanelBuilder
	gaugeBuilder = gauge.PanelBuilder
	cogOverride  = cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]
	cogSort      = cog.Builder[common.TableSortByFieldState]
)

func ptr[T any](v T) *T { return &v }

// thresholdsValue is a thresholds builder as an override property value. steps never fails to build.
func thresholdsValue(b *dashboard.ThresholdsConfigBuilder) dashboard.ThresholdsConfig {
	t, _ := b.Build()
	return t
}

// finish builds the dashboard and numbers its panels in layout order, so ids are stable across runs
// and unique within the dashboard (Grafana keys panel links and the panel editor by them).
func finish(b *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	var id uint32
	for _, p := range d.Panels {
		id++
		switch {
		case p.Panel != nil:
			p.Panel.Id = ptr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
			for i := range p.RowPanel.Panels {
				id++
				p.RowPanel.Panels[i].Id = ptr(id)
			}
		}
	}
	return d, nil
}

type (
	timeseriesBuilder = timeseries.PanelBuilder
	barGaugeBuilder   = bargauge.PanelBuilder
)
