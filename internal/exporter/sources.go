package exporter

import (
	"log/slog"
	"time"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/collectors/github"
	"github.com/ztmm/ztmm/collectors/gitlab"
	"github.com/ztmm/ztmm/collectors/manual"
	"github.com/ztmm/ztmm/collectors/promql"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/metricdef"
)

// Env is what sources get from the exporter: the telemetry to count upstream requests with, the logger,
// and the clock.
type Env struct {
	Telemetry *collectors.Telemetry
	Logger    *slog.Logger
	Now       func() time.Time
}

// Sources builds one job per configured source.
func Sources(cfg *config.Config, env Env) ([]collectors.Job, error) {
	tel, logger := env.Telemetry, env.Logger
	var jobs []collectors.Job
	for _, g := range cfg.GitHub {
		s, err := github.New(g, cfg.Since.Time, cfg.TeamOf, tel, logger.With("collector", g.Name), github.WithClock(env.Now))
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, collectors.Job{Source: s, Interval: g.Interval.D(), Timeout: g.Timeout.D()})
	}
	for _, g := range cfg.GitLab {
		s, err := gitlab.New(g, cfg.Since.Time, cfg.TeamOf, tel, logger.With("collector", g.Name), gitlab.WithClock(env.Now))
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, collectors.Job{Source: s, Interval: g.Interval.D(), Timeout: g.Timeout.D()})
	}
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
func sourceFamilies() metricdef.Set {
	var s metricdef.Set
	s = append(s, github.Families...)
	s = append(s, gitlab.Families...)
	return s
}
