package alerts

import (
	"fmt"
	"strings"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Stable alert names (SPEC section 5).
const (
	KpiTargetBreached        = "ZtmmKpiTargetBreached"
	KpiTargetBreachPredicted = "ZtmmKpiTargetBreachPredicted"
	KpiNoData                = "ZtmmKpiNoData"
	PillarBelowTargetLevel   = "ZtmmPillarBelowTargetLevel"
	CollectorDown            = "ZtmmCollectorDown"
	CollectorStale           = "ZtmmCollectorStale"
	UpstreamRateLimitLow     = "ZtmmUpstreamRateLimitLow"
)

// RunbookURL is where the committed runbook is read; every runbook_url is an anchor in it.
const RunbookURL = "https://github.com/ztmm/ztmm/blob/main/alerts/runbook.md"

// scope is the label set KPI alerts keep. Aggregating to it drops job, instance and whatever a
// ServiceMonitor adds, so two exporter replicas raise one alert, and the labels are exactly the SPEC's.
const scope = "pillar, kpi, team, service"

// scopeText names the alert's scope in prose: a service (with its team), a team, or the organization.
const scopeText = `{{ if $labels.service }}service {{ $labels.service }}{{ if $labels.team }} (team {{ $labels.team }}){{ end }}` +
	`{{ else if $labels.team }}team {{ $labels.team }}{{ else }}the organization{{ end }}`

// Options are the knobs of the generated rules. The defaults are what ztmm-gen commits.
type Options struct {
	// PredictionRange is the history ZtmmKpiTargetBreachPredicted fits its line to. KPI values are
	// rolling 30-day statistics, so a week's trend is long enough to be more than noise and short enough
	// to follow a real change of direction.
	PredictionRange time.Duration
	// PredictionHorizon is how far ahead the line must cross the target (SPEC: 14 days).
	PredictionHorizon time.Duration
	// NoDataLookback is how recently a KPI must have had a value for its absence to alert.
	NoDataLookback time.Duration
	// StaleIntervals is how many sync intervals without a success make a collector stale.
	StaleIntervals int
	// RateLimitFraction: the budget is low below this fraction of its highest value in RateLimitLookback,
	// which stands in for the limit because upstreams report only what remains.
	RateLimitFraction float64
	RateLimitLookback time.Duration
}

// DefaultOptions returns the options of the committed files.
func DefaultOptions() Options {
	return Options{
		PredictionRange:   7 * 24 * time.Hour,
		PredictionHorizon: 14 * 24 * time.Hour,
		NoDataLookback:    24 * time.Hour,
		StaleIntervals:    3,
		RateLimitFraction: 0.1,
		RateLimitLookback: 2 * time.Hour,
	}
}

func (o Options) validate() error {
	switch {
	case o.PredictionRange <= 0 || o.PredictionHorizon <= 0 || o.NoDataLookback <= 0 || o.RateLimitLookback <= 0:
		return fmt.Errorf("alerts: prediction range and horizon, no-data and rate-limit lookbacks must be positive")
	case o.StaleIntervals < 1:
		return fmt.Errorf("alerts: stale intervals must be at least 1, got %d", o.StaleIntervals)
	case o.RateLimitFraction <= 0 || o.RateLimitFraction >= 1:
		return fmt.Errorf("alerts: rate-limit fraction must be in (0, 1), got %v", o.RateLimitFraction)
	}
	return nil
}

// Rules builds the rule file from the catalog.
func Rules(cat *catalog.Catalog, o Options) (RuleFile, error) {
	if err := o.validate(); err != nil {
		return RuleFile{}, err
	}
	var breached, predicted []Rule
	for _, k := range cat.KPIs() {
		p, err := PolicyFor(k)
		if err != nil {
			return RuleFile{}, err
		}
		breached = append(breached, breachRule(k, p))
		predicted = append(predicted, predictRule(k, p, o))
	}
	kpiRules := append(append(breached, predicted...), noDataRule(o))
	return RuleFile{Groups: []Group{
		{Name: "ztmm.records", Rules: recordingRules()},
		{Name: "ztmm.kpi.alerts", Rules: kpiRules},
		{Name: "ztmm.maturity.alerts", Rules: []Rule{pillarRule()}},
		{Name: "ztmm.exporter.alerts", Rules: []Rule{collectorDownRule(), collectorStaleRule(o), rateLimitRule(o)}},
	}}, nil
}

// recordingRules are the aggregations the dashboards and reviews read repeatedly.
func recordingRules() []Rule {
	orgMet := `max by (pillar, kpi) (ztmm_kpi_target_met{team="", service=""})`
	return []Rule{
		// Share of a pillar's organization-wide KPIs (those with data) that meet their target.
		{Record: "pillar:ztmm_kpi_target_met:ratio", Expr: "avg by (pillar) (" + orgMet + ")"},
		{Record: ":ztmm_kpi_target_met:ratio", Expr: "avg (" + orgMet + ")"},
		{Record: "team:ztmm_kpi_target_met:ratio",
			Expr: `avg by (team) (max by (pillar, kpi, team) (ztmm_kpi_target_met{team!="", service=""}))`},
		// Levels still to climb to the roadmap's target; negative when a pillar is ahead of it.
		{Record: "pillar:ztmm_pillar_maturity_level:gap",
			Expr: "max by (pillar) (ztmm_pillar_maturity_target_level)\n- on (pillar)\nmax by (pillar) (ztmm_pillar_maturity_level)"},
		// Age of the last successful sync in sync intervals: above 1 the collector missed a sync.
		{Record: "collector:ztmm_collector_staleness:ratio",
			Expr: "(time() - max by (collector) (ztmm_collector_last_success_timestamp_seconds))\n/ on (collector)\nmax by (collector) (ztmm_collector_interval_seconds)"},
		{Record: "collector_code:ztmm_upstream_requests:rate5m",
			Expr: "sum by (collector, code) (rate(ztmm_upstream_requests_total[5m]))"},
		{Record: "collector:ztmm_upstream_request_errors:ratio_rate5m",
			Expr: "sum by (collector) (rate(ztmm_upstream_requests_total{code!~\"2..|304\"}[5m]))\n/\nsum by (collector) (rate(ztmm_upstream_requests_total[5m]))"},
		{Record: "team_service:ztmm_deployments:increase1d",
			Expr: "sum by (team, service) (increase(ztmm_deployments_total[1d]))"},
		{Record: "team:ztmm_deployments:increase1d",
			Expr: "sum by (team) (increase(ztmm_deployments_total[1d]))"},
	}
}

// valueText formats a template pipeline's number in the KPI's unit.
func valueText(u catalog.Unit, pipeline string) string {
	switch u {
	case catalog.Seconds:
		return "{{ " + pipeline + " | humanizeDuration }}"
	case catalog.Ratio:
		return "{{ " + pipeline + " | humanizePercentage }}"
	case catalog.PerDay:
		return "{{ " + pipeline + ` | printf "%.4g" }} per day`
	case catalog.Count:
		return "{{ " + pipeline + ` | printf "%.0f" }}`
	}
	return "{{ " + pipeline + ` | printf "%.4g" }}`
}

// targetText renders the KPI's current target (after config overrides) with its operator. The operator
// is the catalog's: overrides may move a target but not turn "lower is better" around.
func targetText(k catalog.KPI) string {
	return fmt.Sprintf(`%s {{ with printf "max(ztmm_kpi_target{kpi=%%q})" $labels.kpi | query }}%s{{ end }}`,
		k.Op, valueText(k.Unit, ". | first | value"))
}

func kpiSelector(metric string, k catalog.KPI) string {
	return fmt.Sprintf(`max by (%s) (%s{kpi=%q})`, scope, metric, k.ID)
}

func breachRule(k catalog.KPI, p Policy) Rule {
	return Rule{
		Alert: KpiTargetBreached,
		Expr: fmt.Sprintf("%s\nand on (%s)\n(%s == 0)",
			kpiSelector("ztmm_kpi_value", k), scope, kpiSelector("ztmm_kpi_target_met", k)),
		For:    promDuration(p.For),
		Labels: kpiRuleLabels(k, p.Severity),
		Annotations: map[string]string{
			"summary": fmt.Sprintf("%s misses its target for %s.", k.Name, scopeText),
			"description": fmt.Sprintf("%s of %s is %s; the target is %s (%s). It has missed the target for %s.",
				k.Name, scopeText, valueText(k.Unit, "$value"), targetText(k), docTarget(k), promDuration(p.For)),
			"runbook_url": RunbookURL + "#" + Anchor(breachHeading(k.Area)),
		},
	}
}

// docTarget is the parenthesis after the target: the document's own wording, or that ztmm chose it.
func docTarget(k catalog.KPI) string {
	if k.DocumentTarget != "" {
		return `the document's "` + k.DocumentTarget + `"`
	}
	return "a supporting indicator, target set by ztmm"
}

// kpiRuleLabels repeat the KPI's identity as static labels, equal to the series' own: it makes each
// per-KPI rule distinct, which promtool's duplicate-rule lint requires.
func kpiRuleLabels(k catalog.KPI, severity string) map[string]string {
	return map[string]string{"pillar": string(k.Area), "kpi": k.ID, "severity": severity}
}

// predictRule fires while the KPI still meets its target but its linear trend crosses it within the
// horizon. Besides the prediction it requires the slope itself to point towards the target, so a flat
// or improving series can never fire, whatever the noise does to the fitted line's intercept.
func predictRule(k catalog.KPI, p Policy, o Options) Rule {
	rng := promDuration(o.PredictionRange)
	breachOp, worsening := ">=", "> 0"
	switch k.Op {
	case catalog.LE:
		breachOp = ">"
	case catalog.GT:
		breachOp, worsening = "<=", "< 0"
	case catalog.GE:
		breachOp, worsening = "<", "< 0"
	}
	predicted := fmt.Sprintf(`max by (%s) (predict_linear(ztmm_kpi_value{kpi=%q}[%s], %d))`,
		scope, k.ID, rng, int64(o.PredictionHorizon/time.Second))
	slope := fmt.Sprintf(`max by (%s) (deriv(ztmm_kpi_value{kpi=%q}[%s]))`, scope, k.ID, rng)
	expr := strings.Join([]string{
		kpiSelector("ztmm_kpi_value", k),
		"and on (" + scope + ")",
		"(",
		"  " + predicted,
		"  " + breachOp + " on (pillar, kpi) group_left ()",
		fmt.Sprintf("  max by (pillar, kpi) (ztmm_kpi_target{kpi=%q})", k.ID),
		")",
		"and on (" + scope + ")",
		"(" + slope + " " + worsening + ")",
		"and on (" + scope + ")",
		"(" + kpiSelector("ztmm_kpi_target_met", k) + " == 1)",
	}, "\n")
	sev := Info
	if p.Severity == Critical {
		sev = Warning
	}
	return Rule{
		Alert:  KpiTargetBreachPredicted,
		Expr:   expr,
		For:    "1h",
		Labels: kpiRuleLabels(k, sev),
		Annotations: map[string]string{
			"summary": fmt.Sprintf("%s is predicted to miss its target for %s within %s.", k.Name, scopeText, promDuration(o.PredictionHorizon)),
			"description": fmt.Sprintf("%s of %s is %s and meets its target %s, but its trend over the last %s crosses the target within %s.",
				k.Name, scopeText, valueText(k.Unit, "$value"), targetText(k), rng, promDuration(o.PredictionHorizon)),
			"runbook_url": RunbookURL + "#" + Anchor(KpiTargetBreachPredicted),
		},
	}
}

func noDataRule(o Options) Rule {
	org := `ztmm_kpi_value{team="", service=""}`
	return Rule{
		Alert: KpiNoData,
		// Only while the exporter itself is scraped: a missing exporter is the job's up alert, not 40 of these.
		Expr: fmt.Sprintf("max by (pillar, kpi) (max_over_time(%s[%s]))\nunless on (pillar, kpi)\nmax by (pillar, kpi) (%s)\nand on ()\ngroup (ztmm_build_info)",
			org, promDuration(o.NoDataLookback), org),
		For:    "30m",
		Labels: map[string]string{"severity": Warning},
		Annotations: map[string]string{
			"summary": "KPI {{ $labels.kpi }} has stopped receiving data.",
			"description": `{{ with printf "ztmm_kpi_info{kpi=%q}" $labels.kpi | query }}{{ . | first | label "name" }}{{ else }}{{ $labels.kpi }}{{ end }}` +
				" ({{ $labels.pillar }}) had an organization-wide value in the last " + promDuration(o.NoDataLookback) +
				" but has had none for 30m: the source that feeds it stopped producing it.",
			"runbook_url": RunbookURL + "#" + Anchor(KpiNoData),
		},
	}
}

func pillarRule() Rule {
	return Rule{
		Alert: PillarBelowTargetLevel,
		Expr: "(\n  max by (pillar) (ztmm_pillar_maturity_level)\n  < on (pillar)\n  max by (pillar) (ztmm_pillar_maturity_target_level)\n)\n" +
			"and on (pillar)\n(max by (pillar) (ztmm_pillar_maturity_target_due_timestamp_seconds) < time())",
		For:    "1h",
		Labels: map[string]string{"severity": Warning},
		Annotations: map[string]string{
			"summary": "Pillar {{ $labels.pillar }} is below its roadmap's target level after the due date.",
			"description": `Pillar {{ $labels.pillar }} is at maturity level {{ $value | printf "%.0f" }}, below the roadmap's target level ` +
				`{{ with printf "max(ztmm_pillar_maturity_target_level{pillar=%q})" $labels.pillar | query }}{{ . | first | value | printf "%.0f" }}{{ end }}` +
				`, which was due {{ with printf "max(ztmm_pillar_maturity_target_due_timestamp_seconds{pillar=%q})" $labels.pillar | query }}{{ . | first | value | humanizeTimestamp }}{{ end }}.`,
			"runbook_url": RunbookURL + "#" + Anchor(PillarBelowTargetLevel),
		},
	}
}

// Exporter health alerts keep job and instance: they are about one exporter process.

func collectorDownRule() Rule {
	return Rule{
		Alert:  CollectorDown,
		Expr:   "ztmm_collector_up == 0",
		For:    "15m",
		Labels: map[string]string{"severity": Warning},
		Annotations: map[string]string{
			"summary": "Collector {{ $labels.collector }} is failing its syncs.",
			"description": "Collector {{ $labels.collector }} on {{ $labels.instance }} has failed every sync for 15m" +
				`{{ with printf "ztmm_collector_consecutive_failures{collector=%q, instance=%q}" $labels.collector $labels.instance | query }} ({{ . | first | value | printf "%.0f" }} failures in a row){{ end }}` +
				"; the exporter keeps serving its last good values, which age.",
			"runbook_url": RunbookURL + "#" + Anchor(CollectorDown),
		},
	}
}

func collectorStaleRule(o Options) Rule {
	return Rule{
		Alert: CollectorStale,
		Expr: fmt.Sprintf("time() - ztmm_collector_last_success_timestamp_seconds\n> %d * ztmm_collector_interval_seconds",
			o.StaleIntervals),
		For:    "5m",
		Labels: map[string]string{"severity": Warning},
		Annotations: map[string]string{
			"summary": "Collector {{ $labels.collector }} has not synced successfully for " + fmt.Sprint(o.StaleIntervals) + " intervals.",
			"description": "The last successful sync of collector {{ $labels.collector }} on {{ $labels.instance }} ended {{ $value | humanizeDuration }} ago, " +
				fmt.Sprintf("more than %d times its sync interval", o.StaleIntervals) +
				`{{ with printf "ztmm_collector_interval_seconds{collector=%q, instance=%q}" $labels.collector $labels.instance | query }} of {{ . | first | value | humanizeDuration }}{{ end }}` +
				"; the KPIs it feeds are stale.",
			"runbook_url": RunbookURL + "#" + Anchor(CollectorStale),
		},
	}
}

func rateLimitRule(o Options) Rule {
	lb := promDuration(o.RateLimitLookback)
	return Rule{
		Alert: UpstreamRateLimitLow,
		Expr: fmt.Sprintf("ztmm_upstream_rate_limit_remaining\n< %g * max_over_time(ztmm_upstream_rate_limit_remaining[%s])",
			o.RateLimitFraction, lb),
		For:    "10m",
		Labels: map[string]string{"severity": Warning},
		Annotations: map[string]string{
			"summary": "Collector {{ $labels.collector }} is running out of upstream rate-limit budget.",
			"description": `Collector {{ $labels.collector }} on {{ $labels.instance }} has {{ $value | printf "%.0f" }} upstream requests left, ` +
				fmt.Sprintf("under %g%% of the most it had in the last %s", o.RateLimitFraction*100, lb) +
				`{{ with printf "max_over_time(ztmm_upstream_rate_limit_remaining{collector=%q, instance=%q}[` + lb + `])" $labels.collector $labels.instance | query }} ({{ . | first | value | printf "%.0f" }}){{ end }}` +
				"; its syncs will fail with 403 or 429 until the budget resets.",
			"runbook_url": RunbookURL + "#" + Anchor(UpstreamRateLimitLow),
		},
	}
}

// breachHeading is the runbook heading of one area's breaches; its anchor is the breach rules' runbook_url.
func breachHeading(a catalog.Area) string { return KpiTargetBreached + " (" + string(a) + ")" }

// Anchor is GitHub's heading anchor: lower case, punctuation other than '-' and '_' dropped, spaces as '-'.
func Anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
