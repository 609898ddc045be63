package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/ztmm/ztmm/internal/catalog"
)

// The raw DORA families (internal/dora) behind the service release and application KPIs. They are per
// service, so every query sums them over the dashboard's scope with scopedSum.
const (
	deployments = "ztmm_deployments_total"
	attempts    = "ztmm_deployment_attempts_total"
	manual      = "ztmm_manual_deployments_total"
	rollbacks   = "ztmm_rollbacks_total"
	failed      = "ztmm_failed_deployments_total"
	changes     = "ztmm_deployment_changes_total"
	leadTime    = "ztmm_lead_time_seconds"
	recovery    = "ztmm_recovery_seconds"
	incidents   = "ztmm_incidents_total"
)

// perDayOf is a counter's rate at the scope in events per day, the unit DORA speaks in: Grafana has
// no per-day unit, so this is the one place a query scales a value.
func perDayOf(by, metric string, matchers ...string) string {
	return fmt.Sprintf("(\n%s\n) * 86400", scopedSum(by, rateOf(metric, matchers...)))
}

// perDayPanel is a time series of counters as events per day at the selected scope.
func perDayPanel(title, desc string, w uint32, qs ...*prometheus.DataqueryBuilder) *timeseriesBuilder {
	return newTimeseries(title, desc, format{unit: perDay, decimals: 2}, w, 7, qs...).
		AxisSoftMin(0)
}

// distributionPanel shows a DORA histogram's buckets over the time range: how many observations fell
// at or under each bound that matters for the DORA levels and the document's targets.
func distributionPanel(title, desc, histogram string, w uint32) *barGaugeBuilder {
	return newBarGauge(title, desc, format{unit: units.NoUnit, decimals: 0}, w, 7,
		instant(scopedSum("le", increaseOf(histogram+"_bucket")), "{{le}}").Format(prometheus.PromQueryFormatHeatmap)).
		Orientation(common.VizOrientationVertical).
		ColorScheme(fixedColor(blue))
}

// rawPanels are the raw series a KPI is computed from, where the exporter exposes them.
func rawPanels(k catalog.KPI) []cogPanel {
	switch {
	case k.Incidents:
		return []cogPanel{perDayPanel("Incidents per day", "Incidents opened and attributed to this pillar, security-labelled or not (ztmm_incidents_total). The KPI compares the window's count with the configured baseline.", 24,
			query(perDayOf("security", incidents, `pillar="`+string(k.Area)+`"`), "security={{security}}"))}
	}
	switch k.ID {
	case "deployment_frequency", "application_deployment_frequency":
		return []cogPanel{perDayPanel("Deployments per day", "Successful production deployments (ztmm_deployments_total).", 24,
			query(perDayOf("", deployments), "deployments"))}
	case "lead_time_for_changes":
		return []cogPanel{
			perDayPanel("Changes deployed per day", "Commits brought to production (ztmm_deployment_changes_total).", 12,
				query(perDayOf("", changes), "changes")),
			distributionPanel("Lead time distribution", "Changes deployed in the time range by lead time bucket (ztmm_lead_time_seconds), cumulative: each bar counts changes at or under its bound.", leadTime, 12),
		}
	case "mean_time_to_recovery":
		return []cogPanel{
			perDayPanel("Recoveries per day", "Resolved incidents and rollbacks without an incident (ztmm_recovery_seconds_count).", 12,
				query(perDayOf("", recovery+"_count"), "recoveries")),
			distributionPanel("Recovery time distribution", "Recoveries completed in the time range by duration bucket (ztmm_recovery_seconds), cumulative.", recovery, 12),
		}
	case "change_failure_rate":
		return []cogPanel{perDayPanel("Deployments and failed deployments per day", "Failed deployments (ztmm_failed_deployments_total) are counted once known to have failed: rolled back, or with an incident within the attribution window.", 24,
			query(perDayOf("", deployments), "deployments"),
			query(perDayOf("", failed), "failed"),
			query(perDayOf("", rollbacks), "rollbacks")).
			OverrideByName("failed", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": red})})}
	case "security_related_rollback_rate":
		return []cogPanel{perDayPanel("Rollbacks and security incidents per day", "Rollbacks (ztmm_rollbacks_total) and security-labelled incidents of any pillar (ztmm_incidents_total).", 24,
			query(perDayOf("", rollbacks), "rollbacks"),
			query(perDayOf("", incidents, `security="true"`), "security incidents"))}
	case "manual_intervention_rate":
		return []cogPanel{manualVsAutomated(24)}
	case "automation_success_rate":
		return []cogPanel{perDayPanel("Deployment attempts by result", "Finished production deployment attempts by result (ztmm_deployment_attempts_total).", 24,
			query(perDayOf("result", attempts), "{{result}}")).
			OverrideByName("failure", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": red})}).
			OverrideByName("success", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": green})}).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))}
	}
	return nil
}

func manualVsAutomated(w uint32) *timeseriesBuilder {
	return perDayPanel("Manual vs automated deployments per day", "Deployments triggered by a person (ztmm_manual_deployments_total) and the rest of the successful production deployments.", w,
		query(perDayOf("", manual), "manual"),
		query(fmt.Sprintf("%s\n-\n%s", perDayOf("", deployments), perDayOf("", manual)), "automated")).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		OverrideByName("manual", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": orange})}).
		OverrideByName("automated", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": green})})
}

// releaseRows is the service release dashboard's delivery overview, before the per-KPI rows.
func releaseRows(b *dashboard.DashboardBuilder) {
	b.WithRow(row("Deliveries"))
	b.WithPanel(perDayPanel("Deployments per day by service", "Successful production deployments (ztmm_deployments_total) at the selected scope, by service.", 12,
		query(perDayOf("service", deployments), "{{service}}")).
		DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)))
	b.WithPanel(distributionPanel("Lead time distribution", "Changes deployed in the time range by lead time bucket (ztmm_lead_time_seconds), cumulative: each bar counts changes at or under its bound.", leadTime, 12))
	b.WithPanel(perDayPanel("Failures and recoveries per day", "Failed deployments, rollbacks and completed recoveries at the selected scope.", 12,
		query(perDayOf("", failed), "failed deployments"),
		query(perDayOf("", rollbacks), "rollbacks"),
		query(perDayOf("", recovery+"_count"), "recoveries")).
		OverrideByName("failed deployments", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": red})}).
		OverrideByName("recoveries", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": green})}))
	b.WithPanel(manualVsAutomated(12))
}
