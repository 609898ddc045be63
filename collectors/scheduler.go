package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztmm/ztmm/internal/metricdef"
)

// Health families, emitted for every scheduled source once its first sync has finished.
var (
	CollectorUp = metricdef.New("ztmm_collector_up", metricdef.Gauge,
		"1 if the collector's last sync succeeded, 0 if it failed (its last good values are still served).", "collector")
	CollectorLastSuccess = metricdef.New("ztmm_collector_last_success_timestamp_seconds", metricdef.Gauge,
		"Unix time at the end of the collector's last successful sync.", "collector")
	CollectorDuration = metricdef.New("ztmm_collector_duration_seconds", metricdef.Gauge,
		"Duration of the collector's last sync.", "collector")
	CollectorInterval = metricdef.New("ztmm_collector_interval_seconds", metricdef.Gauge,
		"Configured sync interval of the collector; staleness is judged against it.", "collector")
	CollectorFailures = metricdef.New("ztmm_collector_consecutive_failures", metricdef.Gauge,
		"Syncs that failed in a row since the last success; the retry delay backs off exponentially with it.", "collector")
)

// HealthFamilies are the scheduler's families.
var HealthFamilies = metricdef.Set{CollectorUp, CollectorLastSuccess, CollectorDuration, CollectorInterval, CollectorFailures}

// Job is a source with its schedule.
type Job struct {
	Source   Source
	Interval time.Duration // between successful syncs
	Timeout  time.Duration // of one sync
}

// Backoff bounds the retry delay after failures: MinBackoff doubling per failure up to the interval.
const (
	MinBackoff = 5 * time.Second
	jitterFrac = 0.1
)

type state struct {
	job          Job
	snap         *Snapshot
	ran          bool
	up           bool
	lastSuccess  time.Time
	duration     time.Duration
	failures     int
	lastErrorMsg string
}

// Scheduler runs each job in its own goroutine and keeps the last good snapshot of each.
type Scheduler struct {
	logger   *slog.Logger
	onUpdate func()
	now      func() time.Time

	mu     sync.RWMutex
	states map[string]*state
	order  []string
}

// NewScheduler returns a scheduler for jobs. onUpdate, if set, is called after every sync, success or not.
func NewScheduler(logger *slog.Logger, jobs []Job, onUpdate func()) *Scheduler {
	s := &Scheduler{logger: logger, onUpdate: onUpdate, now: time.Now, states: map[string]*state{}}
	for _, j := range jobs {
		s.states[j.Source.Name()] = &state{job: j}
		s.order = append(s.order, j.Source.Name())
	}
	return s
}

// Adopt takes over the last good snapshots of an older scheduler (a reload) for sources of the same name
// and kind, so a reload never blanks a KPI while the new sources make their first sync.
func (s *Scheduler) Adopt(old *Scheduler) {
	if old == nil {
		return
	}
	old.mu.RLock()
	defer old.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, st := range s.states {
		if o, ok := old.states[name]; ok && o.snap != nil && o.job.Source.Kind() == st.job.Source.Kind() {
			st.snap, st.ran, st.up, st.lastSuccess, st.duration = o.snap, o.ran, o.up, o.lastSuccess, o.duration
		}
	}
}

// Run syncs every job until ctx is done. The first sync of each job starts at once.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range s.order {
		st := s.states[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, st.job)
		}()
	}
	wg.Wait()
}

// SyncOnce runs every job once, concurrently, and returns when all have finished. Tests and the
// --demo warm-up use it.
func (s *Scheduler) SyncOnce(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range s.order {
		j := s.states[name].job
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runOnce(ctx, j)
		}()
	}
	wg.Wait()
}

func (s *Scheduler) loop(ctx context.Context, j Job) {
	for {
		delay := s.runOnce(ctx, j)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runOnce syncs j once, records the outcome and returns the delay until the next sync.
func (s *Scheduler) runOnce(ctx context.Context, j Job) time.Duration {
	name := j.Source.Name()
	start := s.now()
	// A zero timeout means none: an already expired context would fail every sync without a request.
	var sctx context.Context
	var cancel context.CancelFunc
	if j.Timeout > 0 {
		sctx, cancel = context.WithTimeout(ctx, j.Timeout)
	} else {
		sctx, cancel = context.WithCancel(ctx)
	}
	snap, err := safeSync(sctx, j.Source)
	cancel()
	end := s.now()
	if ctx.Err() != nil {
		return 0
	}

	s.mu.Lock()
	st := s.states[name]
	st.ran, st.duration = true, end.Sub(start)
	var delay time.Duration
	if err == nil {
		if snap.Time.IsZero() {
			snap.Time = end
		}
		snap.Collector, snap.Kind = name, j.Source.Kind()
		st.snap, st.up, st.lastSuccess, st.failures, st.lastErrorMsg = snap, true, end, 0, ""
		delay = jitter(j.Interval)
	} else {
		st.up = false
		st.failures++
		st.lastErrorMsg = err.Error()
		delay = max(Backoff(st.failures, j.Interval), retryAfter(err))
	}
	failures := st.failures
	s.mu.Unlock()

	var pe *panicError
	if errors.As(err, &pe) {
		s.logger.Error("collector panicked; treating it as a failed sync", "collector", name, "stack", string(pe.stack))
	}
	if err != nil {
		s.logger.Warn("sync failed; serving last good values", "collector", name, "err", err,
			"consecutive_failures", failures, "retry_in", delay.Round(time.Second))
	} else {
		s.logger.Debug("sync done", "collector", name, "duration", end.Sub(start))
	}
	if s.onUpdate != nil {
		s.onUpdate()
	}
	return delay
}

// safeSync turns a panicking source into a failed sync: one broken collector never takes the exporter down.
func safeSync(ctx context.Context, src Source) (snap *Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, &panicError{v: r, stack: debug.Stack()}
		}
	}()
	snap, err = src.Sync(ctx)
	if err == nil && snap == nil {
		snap = &Snapshot{}
	}
	return snap, err
}

// panicError keeps what a panicking source left behind, so the log says where it broke.
type panicError struct {
	v     any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("collector panicked: %v", p.v) }

// Backoff is the delay after the n-th consecutive failure: MinBackoff·2^(n−1), capped at interval, jittered.
func Backoff(failures int, interval time.Duration) time.Duration {
	d := MinBackoff
	for i := 1; i < failures && d < interval; i++ {
		d *= 2
	}
	return jitter(min(d, max(interval, MinBackoff)))
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration((rand.Float64()*2-1)*jitterFrac*float64(d))
}

// Snapshots returns the last good snapshot of every source that has one, in configuration order.
func (s *Scheduler) Snapshots() []*Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Snapshot
	for _, name := range s.order {
		if st := s.states[name]; st.snap != nil {
			out = append(out, st.snap)
		}
	}
	return out
}

// Describe sends the health descriptors.
func (s *Scheduler) Describe(ch chan<- *prometheus.Desc) { HealthFamilies.Describe(ch) }

// Collect emits the health of every source that has finished a sync.
func (s *Scheduler) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, name := range s.order {
		st := s.states[name]
		ch <- CollectorInterval.Metric(st.job.Interval.Seconds(), name)
		if !st.ran {
			continue
		}
		up := 0.0
		if st.up {
			up = 1
		}
		ch <- CollectorUp.Metric(up, name)
		ch <- CollectorDuration.Metric(st.duration.Seconds(), name)
		ch <- CollectorFailures.Metric(float64(st.failures), name)
		if !st.lastSuccess.IsZero() {
			ch <- CollectorLastSuccess.Metric(float64(st.lastSuccess.UnixNano())/1e9, name)
		}
	}
}
