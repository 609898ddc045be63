// Package collectors holds what every source shares: the Source interface, the immutable Snapshot a
// sync produces, the scheduler that runs sources in the background, and the upstream telemetry
// (requests by status code, remaining rate-limit budget). One sub-package per source does the talking.
//
// Scrapes never call upstream: they read the last good snapshot of each source.
package collectors

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztmm/ztmm/internal/dora"
)

// Source is one configured upstream. Sync fetches what changed since the last call (sources keep their own
// incremental caches) and returns a complete snapshot of the source's state. Sync is never called
// concurrently for the same source.
type Source interface {
	Name() string // the configured instance name; the `collector` label
	Kind() string // "github", "gitlab", "promql", "manual", ...
	Sync(ctx context.Context) (*Snapshot, error)
}

// Snapshot is everything one successful sync of a source knows. It is immutable once returned.
type Snapshot struct {
	Collector string
	Kind      string
	Time      time.Time // end of the sync

	// Values are KPI values with an explicit scope (manual measurements, PromQL results).
	Values []Value
	// Observations are dated measurements (durations mostly) that the KPI engine pools per scope with the
	// KPI's statistic (median, mean, p95) over the KPI's window.
	Observations []Observation
	// Counts are current-state counts per service: PooledRatio KPIs use Numerator/Denominator,
	// Gauge KPIs use Numerator.
	Counts []Count
	// DORA is the release history since the configured start, for the shared DORA engine.
	DORA dora.Input
	// Metrics are the source's raw families (declared in its Families), built during the sync.
	Metrics []prometheus.Metric
}

// Value is a KPI value for an explicit scope. Team and Service empty means the organization.
type Value struct {
	KPI     string
	Team    string
	Service string
	Value   float64
	// Time is when the value was measured; zero means the snapshot time.
	Time time.Time
}

// Observation is one dated measurement of a KPI for a service ("" = the organization only).
type Observation struct {
	KPI     string
	Service string
	Time    time.Time
	Value   float64
}

// Count is a current count of a KPI for a service ("" = the organization only).
type Count struct {
	KPI         string
	Service     string
	Numerator   float64
	Denominator float64
}

// RetryAfterError asks the scheduler not to run the source again before After has passed, as an
// upstream's Retry-After or rate-limit reset demands.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err with a minimum delay before the next attempt.
func RetryAfter(err error, after time.Duration) error {
	return &RetryAfterError{Err: err, After: after}
}

// retryAfter returns the delay err asks for, if any.
func retryAfter(err error) time.Duration {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.After
	}
	return 0
}
