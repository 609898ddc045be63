package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// staleAfter is how many collection intervals without a successful run make a collector stale on the
// dashboard: one missed run is a retry, two in a row needs a look.
const staleAfter = 2.0

// exporterHealth is for the people operating ztmm-exporter: collectors, upstreams, config reloads.
// Unlike the model dashboards it has job and instance variables: health is per exporter process.
func exporterHealth() (dashboard.Dashboard, error) {
	b := newDashboard(HealthUID, "ZTMM / Exporter health",
		"ztmm-exporter itself: whether each collector's last run succeeded and how old its data is, run durations, upstream requests by status code, the remaining upstream rate-limit budget and configuration reloads.",
		"exporter")
	for _, v := range []struct{ name, label, query string }{
		// ztmm_kpi_info is the catalog: every exporter process exposes it from its first scrape.
		{"job", "Job", `label_values(ztmm_kpi_info, job)`},
		{"instance", "Instance", `label_values(ztmm_kpi_info{job=~"$job"}, instance)`},
	} {
		b.WithVariable(dashboard.NewQueryVariableBuilder(v.name).
			Label(v.label).
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(v.query)}).
			Definition(v.query).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			IncludeAll(true).
			AllValue(".+").
			Multi(true).
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
			}))
	}
	const proc = `job=~"$job", instance=~"$instance"`
	m := func(metric string) string { return fmt.Sprintf("%s{%s}", metric, proc) }
	age := fmt.Sprintf("time() - %s", m("ztmm_collector_last_success_timestamp_seconds"))

	b.WithPanel(newStat("Collectors up", "Collectors whose last run succeeded.",
		format{unit: units.NoUnit}, 4, 4, instant(fmt.Sprintf("sum(%s)", m("ztmm_collector_up")), "up")).
		ColorScheme(fixedColor(green)))
	b.WithPanel(newStat("Collectors down", "Collectors whose last run failed; their last good data is still served.",
		format{unit: units.NoUnit}, 4, 4, instant(fmt.Sprintf("count(%s) - sum(%s)", m("ztmm_collector_up"), m("ztmm_collector_up")), "down")).
		Thresholds(steps(green, 1.0, red)))
	b.WithPanel(newStat("Collectors stale", fmt.Sprintf("Collectors without a successful run for more than %v collection intervals.", staleAfter),
		format{unit: units.NoUnit}, 4, 4,
		instant(fmt.Sprintf("count((%s) / %s > %v) or vector(0)", age, m("ztmm_collector_interval_seconds"), staleAfter), "stale")).
		Thresholds(steps(green, 1.0, orange)))
	b.WithPanel(newStat("Last config reload", "Whether the last configuration (re)load succeeded; a failed reload keeps the previous configuration running.",
		format{unit: units.NoUnit}, 4, 4, instant(fmt.Sprintf("min(%s)", m("ztmm_config_last_reload_successful")), "reload")).
		Mappings(metMapping("succeeded", "failed")).
		ColorMode(common.BigValueColorModeBackground))
	b.WithPanel(newStat("Since last successful reload", "Time since the configuration was last loaded successfully.",
		format{unit: units.Seconds, decimals: 0}, 4, 4, instant(fmt.Sprintf("time() - max(%s)", m("ztmm_config_last_reload_success_timestamp_seconds")), "age")).
		ColorScheme(fixedColor(text)))
	b.WithPanel(newTable("Build", "Version of each exporter process.", 4, 4, tableQuery(m("ztmm_build_info"))).
		Unit(units.NoUnit).
		WithTransformation(organize([]string{"Time", "__name__", "job", "Value"},
			map[string]string{"instance": "Instance", "version": "Version", "revision": "Revision", "goversion": "Go"},
			[]string{"instance", "version", "revision", "goversion"})))

	b.WithPanel(newTable("Collectors", "Per collector: last run result, age of its data, its interval and last run duration.", 24, 8,
		tableQuery(m("ztmm_collector_up")),
		tableQuery(age),
		tableQuery(m("ztmm_collector_interval_seconds")),
		tableQuery(m("ztmm_collector_duration_seconds"))).
		WithTransformation(transform("merge", map[string]any{})).
		WithTransformation(organize([]string{"Time", "__name__", "job"},
			map[string]string{"collector": "Collector", "instance": "Instance", "Value #A": "Last run", "Value #B": "Data age", "Value #C": "Interval", "Value #D": "Duration"},
			[]string{"collector", "instance", "Value #A", "Value #B", "Value #C", "Value #D"})).
		Overrides([]cogOverride{
			byName("Last run", colouredCells(), prop("mappings", metMapping("succeeded", "failed"))),
			byName("Data age", prop("unit", units.Seconds), prop("decimals", 0)),
			byName("Interval", prop("unit", units.Seconds), prop("decimals", 0)),
			byName("Duration", prop("unit", units.Seconds), prop("decimals", 2)),
		}))

	b.WithPanel(newTimeseries("Data age in intervals", fmt.Sprintf("Time since each collector's last successful run, in collection intervals. Above %v it is stale.", staleAfter),
		format{unit: units.NoUnit, decimals: 1}, 12, 8,
		query(fmt.Sprintf("(%s) / %s", age, m("ztmm_collector_interval_seconds")), "{{collector}} {{instance}}")).
		Thresholds(steps(green, staleAfter, orange)).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		AxisSoftMin(0))
	b.WithPanel(newTimeseries("Run duration", "Duration of each collector's last run.",
		format{unit: units.Seconds, decimals: 2}, 12, 8,
		query(m("ztmm_collector_duration_seconds"), "{{collector}} {{instance}}")).
		AxisSoftMin(0))
	b.WithPanel(newTimeseries("Upstream requests by code", "HTTP requests to upstream APIs per second by collector and status code; \"error\" when no response arrived.",
		format{unit: units.RequestsPerSecond, decimals: 2}, 12, 8,
		query(fmt.Sprintf("sum by (collector, code) (rate(%s[$__rate_interval]))", m("ztmm_upstream_requests_total")), "{{collector}} {{code}}")).
		AxisSoftMin(0))
	b.WithPanel(newTimeseries("Upstream rate-limit budget", "Remaining request budget as each upstream last reported it (rate-limit headers).",
		format{unit: units.NoUnit, decimals: 0}, 12, 8,
		query(m("ztmm_upstream_rate_limit_remaining"), "{{collector}} {{instance}}")).
		AxisSoftMin(0))
	b.WithPanel(newTimeseries("Config reloads", "Whether the last configuration load succeeded (1) or failed (0), over time.",
		format{unit: units.NoUnit, decimals: 0}, 24, 6,
		query(m("ztmm_config_last_reload_successful"), "{{instance}}")).
		Mappings(metMapping("succeeded", "failed")).
		DrawStyle(common.GraphDrawStyleLine).
		Min(0).Max(1))
	return finish(b)
}
