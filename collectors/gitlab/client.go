package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/ztmm/ztmm/collectors"
)

// The transport stack, outermost first: client-go (retries off, limiter off) → budget (RateLimit-*
// headers; refuses to spend the last reserve of the budget) → telemetry (requests by code) → network.
// client-go's own retries are switched off: a 429 or 5xx must reach the scheduler, which backs off with
// jitter and honours Retry-After across the whole source instead of hammering one endpoint inside a sync.
// Its header-driven limiter is replaced too: it paces every request at 2/3 of the limit even when the
// budget is nearly untouched, which would make a first sync of a large group take many minutes.

// reserveFraction of the per-minute budget is left to other clients sharing the token.
const reserveFraction = 0.05

type budget struct {
	next      http.RoundTripper
	collector string
	tel       *collectors.Telemetry
	now       func() time.Time

	mu        sync.Mutex
	limit     int
	remaining int
	reset     time.Time
	known     bool
}

// errBudget is returned, without a request being sent, while the remaining budget is in the reserve.
type errBudget struct{ until time.Time }

func (e *errBudget) Error() string {
	return fmt.Sprintf("GitLab rate-limit budget nearly spent; waiting until %s", e.until.UTC().Format(time.RFC3339))
}

func (b *budget) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	if b.known && b.limit > 0 && float64(b.remaining) < reserveFraction*float64(b.limit) && b.now().Before(b.reset) {
		until := b.reset
		b.mu.Unlock()
		return nil, &errBudget{until: until}
	}
	b.mu.Unlock()
	resp, err := b.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	h := resp.Header
	if rem, err := strconv.Atoi(h.Get("RateLimit-Remaining")); err == nil {
		limit, _ := strconv.Atoi(h.Get("RateLimit-Limit"))
		var reset time.Time
		if s, err := strconv.ParseInt(h.Get("RateLimit-Reset"), 10, 64); err == nil {
			reset = time.Unix(s, 0)
		}
		b.mu.Lock()
		b.known, b.limit, b.remaining, b.reset = true, limit, rem, reset
		b.mu.Unlock()
		b.tel.SetRateLimitRemaining(b.collector, float64(rem))
	}
	return resp, nil
}

// noLimit replaces client-go's request pacing (see above).
type noLimit struct{}

func (noLimit) Wait(ctx context.Context) error { return ctx.Err() }

func newClient(token, baseURL string, rt http.RoundTripper) (*gl.Client, error) {
	return gl.NewClient(token,
		gl.WithBaseURL(baseURL),
		gl.WithHTTPClient(&http.Client{Transport: rt}),
		gl.WithoutRetries(),
		gl.WithCustomLimiter(noLimit{}),
		gl.WithUserAgent("ztmm-exporter"),
	)
}

// defaultRetryAfter is the wait after a 429 that names none.
const defaultRetryAfter = time.Minute

// classify turns upstream errors into what the scheduler needs: a 429 or an exhausted budget becomes a
// RetryAfterError with GitLab's delay (Retry-After, else RateLimit-Reset, else a minute).
func classify(err error, now time.Time) error {
	if err == nil {
		return nil
	}
	var eb *errBudget
	if errors.As(err, &eb) {
		return collectors.RetryAfter(err, max(eb.until.Sub(now), time.Second))
	}
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests {
		return collectors.RetryAfter(err, retryAfter(er.Response.Header, now))
	}
	return err
}

func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if s, err := strconv.ParseInt(h.Get("RateLimit-Reset"), 10, 64); err == nil {
		if d := time.Unix(s, 0).Sub(now); d > 0 {
			return d
		}
	}
	return defaultRetryAfter
}

// status returns the HTTP status of a failed call, 0 if there was no response.
func status(err error) int {
	if errors.Is(err, gl.ErrNotFound) {
		return http.StatusNotFound
	}
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// unavailable reports whether err means the endpoint does not exist for this instance or licence (GitLab
// answers 403 on tiers without the feature, 404 where it is switched off).
func unavailable(err error) bool {
	s := status(err)
	return s == http.StatusForbidden || s == http.StatusNotFound
}
