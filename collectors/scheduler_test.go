package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// step is one scripted outcome of a fake source's sync.
type step func(ctx context.Context) (*Snapshot, error)

func ok(s *Snapshot) step { return func(context.Context) (*Snapshot, error) { return s, nil } }

func fail(err error) step { return func(context.Context) (*Snapshot, error) { return nil, err } }

func panics(context.Context) (*Snapshot, error) { panic("index out of range in a parser") }

// fakeSource replays its steps, one per sync; after the last it repeats it.
type fakeSource struct {
	name, kind string

	mu    sync.Mutex
	steps []step
	calls int
}

func (f *fakeSource) Name() string { return f.name }
func (f *fakeSource) Kind() string { return f.kind }
func (f *fakeSource) Sync(ctx context.Context) (*Snapshot, error) {
	f.mu.Lock()
	st := f.steps[min(f.calls, len(f.steps)-1)]
	f.calls++
	f.mu.Unlock()
	return st(ctx)
}

func newTestScheduler(onUpdate func(), jobs ...Job) *Scheduler {
	return NewScheduler(slog.New(slog.DiscardHandler), jobs, onUpdate)
}

func job(src Source) Job { return Job{Source: src, Interval: time.Minute, Timeout: 10 * time.Second} }

// health gathers the scheduler's families as name{collector} → value.
func health(t *testing.T, s *Scheduler) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s)
	return samples(t, reg)
}

func sortedKeys(m map[string]float64) string {
	var ks []string
	for k, v := range m {
		ks = append(ks, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(ks)
	return strings.Join(ks, "\n")
}

func TestSchedulerKeepsLastGoodSnapshot(t *testing.T) {
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Minute)
	goodA := &Snapshot{Values: []Value{{KPI: "user_experience_score", Value: 4.6}}}
	goodB1, goodB2 := &Snapshot{}, &Snapshot{Time: t2.Add(-time.Second)}
	tests := []struct {
		name   string
		second step
	}{
		{"an error", fail(errors.New("upstream said 502"))},
		{"a panic", panics},
		{"a retry-after", fail(RetryAfter(errors.New("rate limited"), time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeSource{name: "a", kind: "manual", steps: []step{ok(goodA), tt.second}}
			b := &fakeSource{name: "b", kind: "promql", steps: []step{ok(goodB1), ok(goodB2)}}
			var updates atomic.Int32
			s := newTestScheduler(func() { updates.Add(1) }, job(a), job(b))

			if got := sortedKeys(health(t, s)); got != "ztmm_collector_interval_seconds{a}=60\nztmm_collector_interval_seconds{b}=60" {
				t.Errorf("before the first sync, health is\n%s\nwant only the intervals", got)
			}

			s.now = func() time.Time { return t1 }
			s.SyncOnce(context.Background())
			s.now = func() time.Time { return t2 }
			s.SyncOnce(context.Background())

			snaps := s.Snapshots()
			if len(snaps) != 2 || snaps[0] != goodA || snaps[1] != goodB2 {
				t.Fatalf("snapshots %+v, want a's first (last good) and b's second, in configuration order", snaps)
			}
			if goodA.Collector != "a" || goodA.Kind != "manual" || !goodA.Time.Equal(t1) {
				t.Errorf("a's snapshot is %q/%q at %v; want collector, kind and the sync's end time filled in", goodA.Collector, goodA.Kind, goodA.Time)
			}
			if !goodB2.Time.Equal(t2.Add(-time.Second)) {
				t.Errorf("b's own snapshot time was overwritten: %v", goodB2.Time)
			}
			want := map[string]float64{
				"ztmm_collector_up{a}":                             0,
				"ztmm_collector_up{b}":                             1,
				"ztmm_collector_consecutive_failures{a}":           1,
				"ztmm_collector_consecutive_failures{b}":           0,
				"ztmm_collector_last_success_timestamp_seconds{a}": float64(t1.Unix()),
				"ztmm_collector_last_success_timestamp_seconds{b}": float64(t2.Unix()),
				"ztmm_collector_duration_seconds{a}":               0,
				"ztmm_collector_duration_seconds{b}":               0,
				"ztmm_collector_interval_seconds{a}":               60,
				"ztmm_collector_interval_seconds{b}":               60,
			}
			if got := health(t, s); sortedKeys(got) != sortedKeys(want) {
				t.Errorf("health\n%s\nwant\n%s", sortedKeys(got), sortedKeys(want))
			}
			if n := updates.Load(); n != 4 {
				t.Errorf("onUpdate called %d times, want once per sync (4)", n)
			}

			// The next success clears the failure.
			a.steps = append(a.steps, ok(&Snapshot{}))
			s.SyncOnce(context.Background())
			if h := health(t, s); h["ztmm_collector_up{a}"] != 1 || h["ztmm_collector_consecutive_failures{a}"] != 0 {
				t.Errorf("after a recovery: up %v failures %v, want 1 and 0", h["ztmm_collector_up{a}"], h["ztmm_collector_consecutive_failures{a}"])
			}
		})
	}
}

func TestSchedulerFirstSyncFails(t *testing.T) {
	for _, st := range []step{fail(errors.New("boom")), panics} {
		s := newTestScheduler(nil, job(&fakeSource{name: "a", kind: "github", steps: []step{st}}))
		s.SyncOnce(context.Background())
		if len(s.Snapshots()) != 0 {
			t.Error("a source that never synced has a snapshot")
		}
		h := health(t, s)
		if v, ok := h["ztmm_collector_up{a}"]; !ok || v != 0 {
			t.Errorf("up = %v (present %v), want 0", v, ok)
		}
		if _, ok := h["ztmm_collector_last_success_timestamp_seconds{a}"]; ok {
			t.Error("last success reported for a source that never succeeded")
		}
	}
}

func TestSchedulerPanicIsAFailedSync(t *testing.T) {
	s := newTestScheduler(nil, job(&fakeSource{name: "a", kind: "github", steps: []step{panics}}))
	delay := s.runOnce(context.Background(), s.states["a"].job) // would crash the test binary if not recovered
	st := s.states["a"]
	if st.up || st.failures != 1 || st.lastErrorMsg != "collector panicked: index out of range in a parser" {
		t.Errorf("after a panic: up %v failures %d error %q", st.up, st.failures, st.lastErrorMsg)
	}
	if delay < 4500*time.Millisecond || delay > 5500*time.Millisecond {
		t.Errorf("retry in %v after a panic, want the first backoff (5s ±10%%)", delay)
	}
}

func TestSchedulerDelay(t *testing.T) {
	within := func(d, want time.Duration) bool {
		return d >= want-want/10 && d <= want+want/10
	}
	tests := []struct {
		name     string
		interval time.Duration
		steps    []step
		want     time.Duration // ±10% jitter
	}{
		{"success waits the interval", time.Minute, []step{ok(nil)}, time.Minute},
		{"first failure retries after MinBackoff", time.Hour, []step{fail(errors.New("x"))}, MinBackoff},
		{"third failure in a row backs off to 4·MinBackoff", time.Hour, []step{fail(errors.New("x"))}, 4 * MinBackoff},
		{"Retry-After longer than the backoff wins", time.Minute, []step{fail(RetryAfter(errors.New("429"), 10*time.Minute))}, 10 * time.Minute},
		{"a wrapped Retry-After still counts", time.Minute, []step{fail(fmt.Errorf("page 3: %w", RetryAfter(errors.New("429"), 10*time.Minute)))}, 10 * time.Minute},
		{"Retry-After shorter than the backoff does not shorten it", time.Hour, []step{fail(RetryAfter(errors.New("429"), time.Second))}, MinBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := Job{Source: &fakeSource{name: "a", kind: "github", steps: tt.steps}, Interval: tt.interval, Timeout: time.Second}
			s := newTestScheduler(nil, j)
			runs := 1
			if strings.HasPrefix(tt.name, "third") {
				runs = 3
			}
			var d time.Duration
			for range runs {
				d = s.runOnce(context.Background(), j)
			}
			if tt.want >= 10*time.Minute {
				// Retry-After is a floor set by the upstream: not jittered below it.
				if d < tt.want || d > tt.want+tt.want/10 {
					t.Errorf("delay %v, want at least %v", d, tt.want)
				}
				return
			}
			if !within(d, tt.want) {
				t.Errorf("delay %v, want %v ±10%%", d, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures int
		interval time.Duration
		want     time.Duration
	}{
		{0, time.Hour, 5 * time.Second},
		{1, time.Hour, 5 * time.Second},
		{2, time.Hour, 10 * time.Second},
		{3, time.Hour, 20 * time.Second},
		{10, time.Hour, 2560 * time.Second},
		{11, time.Hour, time.Hour}, // 5120 s capped at the interval
		{1000, time.Hour, time.Hour},
		{3, 15 * time.Second, 15 * time.Second},
		{1, 15 * time.Second, 5 * time.Second},
		// Below MinBackoff the interval is no cap: a failing upstream is never retried faster than 5s.
		{1, time.Second, MinBackoff},
		{5, time.Second, MinBackoff},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 100 {
			d := Backoff(tt.failures, tt.interval)
			seen[d] = true
			if lo, hi := tt.want-tt.want/10, tt.want+tt.want/10; d < lo || d > hi {
				t.Errorf("Backoff(%d, %v) = %v, want within [%v, %v]", tt.failures, tt.interval, d, lo, hi)
				break
			}
		}
		// Jitter spreads the retries of many exporters hitting one upstream; 100 equal draws of a
		// float64 do not happen by chance.
		if len(seen) < 2 {
			t.Errorf("Backoff(%d, %v) is not jittered", tt.failures, tt.interval)
		}
	}
}

func TestSchedulerZeroTimeoutIsNoTimeout(t *testing.T) {
	src := &fakeSource{name: "a", kind: "manual", steps: []step{func(ctx context.Context) (*Snapshot, error) {
		return &Snapshot{}, ctx.Err()
	}}}
	s := newTestScheduler(nil, Job{Source: src, Interval: time.Minute})
	s.SyncOnce(context.Background())
	if h := health(t, s); h["ztmm_collector_up{a}"] != 1 {
		t.Error("a job without a timeout failed its sync: its context was already expired")
	}
}

func TestSchedulerAdopt(t *testing.T) {
	gh := &Snapshot{Values: []Value{{KPI: "x", Value: 1}}}
	prom := &Snapshot{}
	failing := &fakeSource{name: "broken", kind: "gitlab", steps: []step{fail(errors.New("down"))}}
	old := newTestScheduler(nil,
		job(&fakeSource{name: "github", kind: "github", steps: []step{ok(gh)}}),
		job(&fakeSource{name: "metrics", kind: "promql", steps: []step{ok(prom)}}),
		job(&fakeSource{name: "gone", kind: "manual", steps: []step{ok(&Snapshot{})}}),
		job(failing),
	)
	old.SyncOnce(context.Background())

	never := func(context.Context) (*Snapshot, error) { t.Fatal("Adopt ran a sync"); return nil, nil }
	s := newTestScheduler(nil,
		job(&fakeSource{name: "github", kind: "github", steps: []step{never}}),  // same name and kind: adopted
		job(&fakeSource{name: "metrics", kind: "gitlab", steps: []step{never}}), // same name, other kind: not
		job(&fakeSource{name: "new", kind: "promql", steps: []step{never}}),     // new name: nothing to adopt
		job(&fakeSource{name: "broken", kind: "gitlab", steps: []step{never}}),  // no good snapshot to adopt
	)
	s.Adopt(old)
	s.Adopt(nil) // a first start has no old scheduler

	snaps := s.Snapshots()
	if len(snaps) != 1 || snaps[0] != gh {
		t.Fatalf("adopted snapshots %+v, want only github's", snaps)
	}
	h := health(t, s)
	if h["ztmm_collector_up{github}"] != 1 {
		t.Error("the adopted source's health was not carried over")
	}
	for _, name := range []string{"metrics", "new", "broken"} {
		if _, ok := h["ztmm_collector_up{"+name+"}"]; ok {
			t.Errorf("%s reports up before its first sync", name)
		}
	}
	if _, ok := h["ztmm_collector_up{gone}"]; ok {
		t.Error("a source removed by the reload still reports health")
	}
}

// Run syncs every job at once and returns when its context ends; the last sync's onUpdate cancels it,
// so no timing is involved.
func TestSchedulerRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	a := &fakeSource{name: "a", kind: "manual", steps: []step{ok(&Snapshot{})}}
	b := &fakeSource{name: "b", kind: "promql", steps: []step{fail(errors.New("down"))}}
	s := newTestScheduler(func() {
		if n.Add(1) == 2 {
			cancel()
		}
	}, Job{Source: a, Interval: time.Hour, Timeout: time.Minute}, Job{Source: b, Interval: time.Hour, Timeout: time.Minute})
	s.Run(ctx)
	if a.calls != 1 || b.calls != 1 {
		t.Errorf("syncs: a %d, b %d; want one each before the hour-long waits", a.calls, b.calls)
	}
	if len(s.Snapshots()) != 1 {
		t.Errorf("snapshots %d, want a's only", len(s.Snapshots()))
	}
}
