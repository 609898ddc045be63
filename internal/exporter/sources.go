package exporter

import (
	"log/slog"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/collectors/manual"
	"github.com/ztmm/ztmm/collectors/promql"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/metricdef"
)

// Sources builds one job per configured source.
func Sources(cfg *config.Config, tel *collectors.Telemetry, logger *slog.Logger) ([]collectors.Job, error) {
	var jobs []collectors.Job
	for _, p := range cfg.PromQL {
		s, err := promql.New(p, tel)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, collectors.Job{Source: s, Interval: p.Interval.D(), Timeout: p.Timeout.D()})
	}
	if cfg.Manual != nil {
		jobs = append(jobs, collectors.Job{Source: manual.New(cfg), Interval: cfg.Manual.Interval.D(), Timeout: cfg.Manual.Interval.D()})
	}
	return jobs, nil
}

// sourceFamilies are the raw families of every source kind.
func sourceFamilies() metricdef.Set { return nil }
