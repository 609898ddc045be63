// Package exporter is the ztmm exporter's runtime: it builds sources from the configuration, runs them
// in the background, recomputes KPIs and maturity from their snapshots, and serves the result to
// scrapes as const metrics. Scrapes never call upstream and never compute: they read the last view.
// cmd/ztmm-exporter is a thin main around it; tests and the demo run it in-process.
package exporter

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/kpi"
	"github.com/ztmm/ztmm/internal/maturity"
)

// RecomputeInterval is how often KPIs are recomputed even without a new snapshot, so rolling windows move.
const RecomputeInterval = 30 * time.Second

// SourceBuilder turns a configuration into scheduled jobs.
type SourceBuilder func(cfg *config.Config, env Env) ([]collectors.Job, error)

// Options configure an Exporter.
type Options struct {
	Logger *slog.Logger
	// Load reads the configuration, for the first start and for every reload.
	Load func() (*config.Config, error)
	// Sources builds the jobs of a configuration; Sources (the package function) if nil.
	Sources SourceBuilder
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Exporter runs the sources of the current configuration and serves their KPIs.
type Exporter struct {
	opts Options
	cat  *catalog.Catalog
	tel  *collectors.Telemetry

	reloadOK, reloadTime prometheus.Gauge

	mu         sync.Mutex // serialises Apply / Run start / recompute
	cfg        *config.Config
	assessment *maturity.Assessment
	sched      *collectors.Scheduler
	cancel     context.CancelFunc
	runCtx     context.Context
	done       chan struct{}
	kick       chan struct{}
	view       atomic.Pointer[View]
	running    bool
}

// New returns an exporter and registers its metrics on reg.
func New(reg prometheus.Registerer, opts Options) *Exporter {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Sources == nil {
		opts.Sources = Sources
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Exporter{
		opts: opts,
		cat:  catalog.Default(),
		tel:  collectors.NewTelemetry(reg),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ztmm_config_last_reload_successful",
			Help: "1 if the last configuration load (start, SIGHUP or /-/reload) succeeded."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ztmm_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load."}),
		kick: make(chan struct{}, 1),
	}
	reg.MustRegister(e, e.reloadOK, e.reloadTime)
	return e
}

// Telemetry returns the upstream request telemetry that sources must wrap their transports with.
func (e *Exporter) Telemetry() *collectors.Telemetry { return e.tel }

// Reload loads the configuration again and applies it. On error the running configuration stays.
func (e *Exporter) Reload() error {
	cfg, err := e.opts.Load()
	if err == nil {
		err = e.Apply(cfg)
	}
	if err != nil {
		e.reloadOK.Set(0)
		e.opts.Logger.Error("configuration not applied; keeping the running one", "err", err)
		return err
	}
	e.reloadOK.Set(1)
	e.reloadTime.Set(float64(e.opts.Now().Unix()))
	return nil
}

// Apply replaces the running configuration: new sources are built first (a failure leaves everything
// as it was), then the old scheduler stops and the new one starts with the old one's last good
// snapshots, so a reload never blanks a KPI.
func (e *Exporter) Apply(cfg *config.Config) error {
	// The assessment file is validated like the configuration, and re-read on every reload.
	var assessment *maturity.Assessment
	if cfg.Assessment != nil {
		a, err := maturity.LoadAssessment(cfg.Path(cfg.Assessment.File), e.opts.Now())
		if err != nil {
			return err
		}
		assessment = a
	}
	jobs, err := e.opts.Sources(cfg, Env{Telemetry: e.tel, Logger: e.opts.Logger, Now: e.opts.Now})
	if err != nil {
		return err
	}
	sched := collectors.NewScheduler(e.opts.Logger, jobs, e.Kick)
	e.mu.Lock()
	old, oldCancel, oldDone := e.sched, e.cancel, e.done
	if oldCancel != nil {
		oldCancel()
	}
	e.mu.Unlock()
	if oldDone != nil {
		<-oldDone
	}
	sched.Adopt(old)

	e.mu.Lock()
	if old != nil {
		for _, name := range removed(e.cfg, cfg) {
			e.tel.Forget(name)
		}
	}
	e.cfg, e.sched, e.assessment = cfg, sched, assessment
	e.cancel, e.done = nil, nil
	if e.running {
		e.startLocked()
	}
	e.mu.Unlock()
	e.Recompute()
	return nil
}

func removed(old, cur *config.Config) []string {
	if old == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, n := range cur.SourceNames() {
		keep[n] = true
	}
	var out []string
	for _, n := range old.SourceNames() {
		if !keep[n] {
			out = append(out, n)
		}
	}
	return out
}

func (e *Exporter) startLocked() {
	ctx, cancel := context.WithCancel(e.runCtx)
	done := make(chan struct{})
	e.cancel, e.done = cancel, done
	sched := e.sched
	go func() {
		defer close(done)
		sched.Run(ctx)
	}()
}

// SyncOnce runs every source once and recomputes: for tests and the demo's warm-up.
func (e *Exporter) SyncOnce(ctx context.Context) {
	e.mu.Lock()
	sched := e.sched
	e.mu.Unlock()
	if sched != nil {
		sched.SyncOnce(ctx)
	}
	e.Recompute()
}

// Run runs the sources and keeps the view fresh until ctx is done.
func (e *Exporter) Run(ctx context.Context) {
	e.mu.Lock()
	e.runCtx, e.running = ctx, true
	if e.sched != nil {
		e.startLocked()
	}
	e.mu.Unlock()

	t := time.NewTicker(RecomputeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.mu.Lock()
			done := e.done
			e.running = false
			e.mu.Unlock()
			if done != nil {
				<-done
			}
			return
		case <-t.C:
			e.Recompute()
		case <-e.kick:
			e.Recompute()
		}
	}
}

// Kick asks for a recompute soon; many kicks coalesce into one.
func (e *Exporter) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Recompute rebuilds the view from the current snapshots.
func (e *Exporter) Recompute() {
	e.mu.Lock()
	cfg, sched, assessment := e.cfg, e.sched, e.assessment
	e.mu.Unlock()
	if cfg == nil || sched == nil {
		return
	}
	e.view.Store(buildView(e.cat, cfg, assessment, sched, e.opts.Now()))
}

// View returns the current view (nil before the first configuration).
func (e *Exporter) View() *View { return e.view.Load() }

// Describe implements prometheus.Collector with every family the exporter can emit.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range AllFamilies() {
		ch <- f.Desc()
	}
}

// Collect implements prometheus.Collector from the current view.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	v := e.view.Load()
	if v == nil {
		return
	}
	v.collect(ch)
}

// Result is the latest KPI result, for tests.
func (e *Exporter) Result() *kpi.Result {
	if v := e.view.Load(); v != nil {
		return v.KPIs
	}
	return nil
}
