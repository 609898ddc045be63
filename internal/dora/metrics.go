package dora

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztmm/ztmm/internal/metricdef"
)

// rebuilt ends every raw family's help: the exporter keeps no state of its own, so counters are recounted
// from the fixed history start on every sync; that is what keeps them monotonic across restarts.
const rebuilt = " Rebuilt from upstream history since the configured start (config `since`), so it never drops on restart."

func family(name string, t metricdef.Type, help string, labels ...string) *metricdef.Family {
	f := metricdef.New(name, t, help+rebuilt, labels...)
	// Analyze runs over the merged GitHub and GitLab history, so no single collector emits these.
	f.Source = "kpi engine"
	return f
}

var (
	deploymentsFamily = family("ztmm_deployments_total", metricdef.Counter,
		"Successful production deployments (SPEC section 3), rollbacks and redeploys included.", "team", "service")
	attemptsFamily = family("ztmm_deployment_attempts_total", metricdef.Counter,
		"Finished production deployment attempts by result (success or failure), at their first terminal status.", "team", "service", "result")
	manualFamily = family("ztmm_manual_deployments_total", metricdef.Counter,
		"Successful production deployments triggered by a person (workflow_dispatch, user-created, manual job).", "team", "service")
	rollbacksFamily = family("ztmm_rollbacks_total", metricdef.Counter,
		"Production deployments that moved production backwards (compare behind the previous deployment).", "team", "service")
	failedFamily = family("ztmm_failed_deployments_total", metricdef.Counter,
		"Production deployments rolled back by the next deployment or with an incident attributed to them. A deployment is counted once it is known to have failed, which can be up to the incident attribution window after it.", "team", "service")
	changesFamily = family("ztmm_deployment_changes_total", metricdef.Counter,
		"Commits brought to production by successful production deployments (compare with the previous deployment).", "team", "service")
	leadTimeFamily = family("ztmm_lead_time_seconds", metricdef.Histogram,
		"Lead time of each change deployed to production: deployment time minus commit author time.", "team", "service")
	recoveryFamily = family("ztmm_recovery_seconds", metricdef.Histogram,
		"Recovery durations: incident closed minus opened, or rollback time minus failed deployment time for a rollback without an incident.", "team", "service")
	incidentsFamily = family("ztmm_incidents_total", metricdef.Counter,
		"Opened incidents by pillar (empty when not attributed to one) and security label.", "team", "service", "pillar", "security")
)

// Families are the raw DORA families Metrics emits.
var Families = metricdef.Set{deploymentsFamily, attemptsFamily, manualFamily, rollbacksFamily, failedFamily,
	changesFamily, leadTimeFamily, recoveryFamily, incidentsFamily}

// Metrics builds the raw families' samples from the whole history, in service order. teamOf maps a
// service to its team ("" if none); it is not asked about events without a service, whose series have
// both labels empty. Every label value is bounded: services and teams from config and the hosts, pillars
// from the catalog, results and security from fixed sets.
//
// A service that deploys (or tries to) gets every deployment series, zeros included, so increase() sees
// the first failure or rollback instead of a series appearing already at 1.
func (a *Analysis) Metrics(teamOf func(service string) string) []prometheus.Metric {
	var out []prometheus.Metric
	for _, s := range a.services {
		team := ""
		if s.name != "" {
			team = teamOf(s.name)
		}
		deploys := len(s.deps) > 0 || len(s.attempts) > 0
		if deploys {
			var manual, rollbacks, failed, changes float64
			for _, d := range s.deps {
				manual += b2f(d.manual)
				rollbacks += b2f(d.rollback)
				failed += b2f(d.failed)
				changes += float64(d.changes)
			}
			var ok float64
			for _, at := range s.attempts {
				ok += b2f(at.success)
			}
			out = append(out,
				deploymentsFamily.Metric(float64(len(s.deps)), team, s.name),
				attemptsFamily.Metric(ok, team, s.name, "success"),
				attemptsFamily.Metric(float64(len(s.attempts))-ok, team, s.name, "failure"),
				manualFamily.Metric(manual, team, s.name),
				rollbacksFamily.Metric(rollbacks, team, s.name),
				failedFamily.Metric(failed, team, s.name),
				changesFamily.Metric(changes, team, s.name),
				histogram(leadTimeFamily, s.leads, team, s.name),
			)
		}
		if deploys || len(s.recoveries) > 0 {
			out = append(out, histogram(recoveryFamily, s.recoveries, team, s.name))
		}
		for _, k := range sortedKeys(s.incidents) {
			out = append(out, incidentsFamily.Metric(float64(s.incidents[k]), team, s.name, string(k.pillar), strconv.FormatBool(k.security)))
		}
	}
	return out
}

func histogram(f *metricdef.Family, samples []sample, labels ...string) prometheus.Metric {
	values := make([]float64, len(samples))
	for i, x := range samples {
		values[i] = x.value
	}
	count, sum, buckets := metricdef.Observations(values, metricdef.DORABuckets)
	return f.HistogramMetric(count, sum, buckets, labels...)
}

func sortedKeys(m map[incidentKey]int) []incidentKey {
	keys := make([]incidentKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y incidentKey) int {
		return cmp.Or(cmp.Compare(x.pillar, y.pillar), cmp.Compare(b2f(x.security), b2f(y.security)))
	})
	return keys
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
