package exporter

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
	"github.com/ztmm/ztmm/internal/kpi"
	"github.com/ztmm/ztmm/internal/maturity"
	"github.com/ztmm/ztmm/internal/metricdef"
)

// The KPI families of SPEC section 2.
var (
	KPIInfo = metricdef.New("ztmm_kpi_info", metricdef.Gauge,
		"Metadata of every KPI of the catalog: name is the document's wording, unit the base unit of its value, op and window how its value is judged and computed. Always 1.",
		"pillar", "kpi", "name", "unit", "op", "origin", "window")
	KPITarget = metricdef.New("ztmm_kpi_target", metricdef.Gauge,
		"Target of the KPI in its base unit, after configuration overrides.", "pillar", "kpi")
	KPIValue = metricdef.New("ztmm_kpi_value", metricdef.Gauge,
		"Current value of the KPI over its window, in its base unit, per scope: organization (team and service empty), team (service empty) or service. Computed in the background from the collectors' last good syncs.",
		"pillar", "kpi", "team", "service")
	KPITargetMet = metricdef.New("ztmm_kpi_target_met", metricdef.Gauge,
		"1 if the KPI's value meets its target, 0 if it breaches it; present exactly when ztmm_kpi_value is.",
		"pillar", "kpi", "team", "service")
	DORAPerformance = metricdef.New("ztmm_dora_performance_level", metricdef.Gauge,
		"DORA performance level of the scope's value of a four-keys metric: 4 elite, 3 high, 2 medium, 1 low.",
		"metric", "team", "service", "benchmark")
)

// KPIFamilies are the families of the KPI engine.
var KPIFamilies = metricdef.Set{KPIInfo, KPITarget, KPIValue, KPITargetMet, DORAPerformance}

// doraKeys are the four keys rated by the DORA benchmark.
var doraKeys = []string{"deployment_frequency", "lead_time_for_changes", "change_failure_rate", "mean_time_to_recovery"}

// View is one immutable computation of everything a scrape serves, apart from live health counters.
type View struct {
	Time     time.Time
	KPIs     *kpi.Result
	Maturity *maturity.Result
	metrics  []prometheus.Metric
	sched    *collectors.Scheduler
}

func buildView(cat *catalog.Catalog, cfg *config.Config, assessment *maturity.Assessment, sched *collectors.Scheduler, now time.Time) *View {
	snaps := sched.Snapshots()
	res, analysis := kpi.Compute(cat, cfg, snaps, now)
	v := &View{Time: now, KPIs: res, sched: sched}
	add := func(m prometheus.Metric) { v.metrics = append(v.metrics, m) }

	for _, k := range cat.KPIs() {
		op, target := cfg.Target(k)
		add(KPIInfo.Metric(1, string(k.Area), k.ID, k.Name, string(k.Unit), string(op), string(k.Origin), windowLabel(cfg, k)))
		add(KPITarget.Metric(target, string(k.Area), k.ID))
	}
	for _, s := range res.Samples {
		add(KPIValue.Metric(s.Value, string(s.KPI.Area), s.KPI.ID, s.Team, s.Service))
		met := 0.0
		if s.Met {
			met = 1
		}
		add(KPITargetMet.Metric(met, string(s.KPI.Area), s.KPI.ID, s.Team, s.Service))
		if isDORAKey(s.KPI.ID) {
			if level, ok := dora.PerformanceLevel(s.KPI.ID, s.Value); ok {
				add(DORAPerformance.Metric(float64(level), s.KPI.ID, s.Team, s.Service, "2023"))
			}
		}
	}
	v.metrics = append(v.metrics, analysis.Metrics(cfg.TeamOf)...)
	v.Maturity = maturity.Evaluate(cat, cfg, assessment, res, now)
	v.metrics = append(v.metrics, v.Maturity.Metrics()...)
	for _, s := range snaps {
		v.metrics = append(v.metrics, s.Metrics...)
	}
	return v
}

func isDORAKey(id string) bool {
	for _, k := range doraKeys {
		if k == id {
			return true
		}
	}
	return false
}

// windowLabel says over what a KPI's value is computed: its rolling window, "current" for a state that is
// counted now, "latest" for the latest valid reported value.
func windowLabel(cfg *config.Config, k catalog.KPI) string {
	switch k.Statistic {
	case catalog.PooledRatio, catalog.Gauge:
		return "current"
	case catalog.Latest:
		return "latest"
	}
	return config.Duration(cfg.WindowOf(k.ID)).String()
}

func (v *View) collect(ch chan<- prometheus.Metric) {
	for _, m := range v.metrics {
		ch <- m
	}
	v.sched.Collect(ch)
}

// AllFamilies are every family the exporter's own collector describes.
func AllFamilies() metricdef.Set {
	var s metricdef.Set
	s = append(s, KPIFamilies...)
	s = append(s, collectors.HealthFamilies...)
	s = append(s, dora.Families...)
	s = append(s, sourceFamilies()...)
	s = append(s, maturity.Families...)
	return s
}
