package dashboards

import (
	"fmt"
	"strings"
)

// The exporter publishes KPI values already pooled per scope (SPEC section 2): organization series have
// team="" and service="", team series service="", service series both. A dashboard therefore selects
// one series rather than aggregating, and the team and service variables send "^$" for "All":
//
//	All / All        team=~"^$", service=~"^$"  → the organization series
//	team / All       team=~"payments", service=~"^$"  → the team series
//	any / service    service=~"acme/checkout", service!=""  → the service series, whatever its team
//
// Raw counters and histograms are per service, so their scope is a sum over services instead; see
// scopedSum.

// sel joins label matchers into a selector body.
func sel(matchers ...string) string { return strings.Join(matchers, ", ") }

// scoped selects the series of a per-scope family (ztmm_kpi_value, ztmm_kpi_target_met,
// ztmm_dora_performance_level) at the dashboard's scope. The second arm lets a service be chosen
// without its team; when both arms match, `or` keeps the one series once.
func scoped(metric string, matchers ...string) string {
	m := sel(matchers...)
	if m != "" {
		m += ", "
	}
	return fmt.Sprintf(`(%s{%steam=~"$team", service=~"$service"} or %s{%sservice=~"$service", service!=""})`, metric, m, metric, m)
}

// byService selects the service series of a per-scope family: the selected team's services, or every
// service when team is "All" (the second arm, turned on by allSelected).
func byService(metric string, matchers ...string) string {
	m := sel(append(matchers, `service!=""`)...)
	return fmt.Sprintf(`(%s{%s, team=~"$team"} or (%s{%s} and on() %s))`, metric, m, metric, m, allSelected("team"))
}

// allSelected is a one-series vector exactly when every named variable is "All". ztmm_kpi_info is
// always exposed (it is the catalog) and has neither a team nor a service label, so `team=~"$team"`
// matches it only when team sends "^$". Used with `and on()`, it gates a query arm on the variables
// rather than on data.
func allSelected(vars ...string) string {
	var m []string
	for _, v := range vars {
		m = append(m, fmt.Sprintf(`%s=~"$%s"`, v, v))
	}
	return fmt.Sprintf(`group(ztmm_kpi_info{%s})`, sel(m...))
}

// byTeam selects the team series of a per-scope family: every team, so teams can be compared.
func byTeam(metric string, matchers ...string) string {
	return fmt.Sprintf(`%s{%s}`, metric, sel(append(matchers, `team!=""`, `service=""`)...))
}

// orgSeries selects the organization series of a per-scope family.
func orgSeries(metric string, matchers ...string) string {
	return fmt.Sprintf(`%s{%s}`, metric, sel(append(matchers, `team=""`, `service=""`)...))
}

// scopedSum aggregates a per-service raw family over the dashboard's scope: the selected service, else
// the selected team's services, else everything. inner renders the per-series expression for a selector
// body, e.g. `rate(ztmm_deployments_total{%s}[$__rate_interval])`. The arms are gated on the variables
// (allSelected) rather than on data, so a team without deployments shows no data instead of falling back
// to the organization's.
func scopedSum(by string, inner func(selector string) string) string {
	agg := "sum"
	if by != "" {
		agg = "sum by (" + by + ")"
	}
	service := fmt.Sprintf(`%s (%s)`, agg, inner(`service=~"$service", service!=""`))
	team := fmt.Sprintf(`(%s (%s) and on() %s)`, agg, inner(`team=~"$team", team!=""`), allSelected("service"))
	org := fmt.Sprintf(`(%s (%s) and on() %s)`, agg, inner(``), allSelected("team", "service"))
	return service + "\nor\n" + team + "\nor\n" + org
}

// rateOf is inner for scopedSum: the per-second rate of a counter.
func rateOf(metric string, matchers ...string) func(string) string {
	return func(s string) string {
		return fmt.Sprintf(`rate(%s{%s}[$__rate_interval])`, metric, sel(nonEmpty(append(matchers, s))...))
	}
}

// increaseOf is inner for scopedSum: a counter's increase over the dashboard's time range.
func increaseOf(metric string, matchers ...string) func(string) string {
	return func(s string) string {
		return fmt.Sprintf(`increase(%s{%s}[$__range])`, metric, sel(nonEmpty(append(matchers, s))...))
	}
}

func nonEmpty(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
