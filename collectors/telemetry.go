package collectors

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Telemetry counts upstream requests by status code and records the remaining request budget, per
// collector. It is the exporter's own live state, not part of any snapshot.
type Telemetry struct {
	requests  *prometheus.CounterVec
	remaining *prometheus.GaugeVec
}

// NewTelemetry registers the upstream families on reg.
func NewTelemetry(reg prometheus.Registerer) *Telemetry {
	t := &Telemetry{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ztmm_upstream_requests_total",
			Help: "HTTP requests made to upstream APIs, by collector and status code (\"error\" when no response arrived). 304 responses served from the cache are counted as 304.",
		}, []string{"collector", "code"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ztmm_upstream_rate_limit_remaining",
			Help: "Remaining upstream request budget as last reported by the upstream's rate-limit headers.",
		}, []string{"collector"}),
	}
	if reg != nil {
		reg.MustRegister(t.requests, t.remaining)
	}
	return t
}

// Transport wraps base (http.DefaultTransport if nil) so that every request of collector is counted.
func (t *Telemetry) Transport(collector string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if t == nil {
		return base // sources built without telemetry (tools, tests) still work, uncounted
	}
	return &countingTransport{base: base, collector: collector, t: t}
}

// SetRateLimitRemaining records the budget an upstream reported.
func (t *Telemetry) SetRateLimitRemaining(collector string, remaining float64) {
	if t == nil {
		return
	}
	t.remaining.WithLabelValues(collector).Set(remaining)
}

// Forget drops the series of a collector that a reload removed.
func (t *Telemetry) Forget(collector string) {
	if t == nil {
		return
	}
	t.requests.DeletePartialMatch(prometheus.Labels{"collector": collector})
	t.remaining.DeleteLabelValues(collector)
}

type countingTransport struct {
	base      http.RoundTripper
	collector string
	t         *Telemetry
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	c.t.requests.WithLabelValues(c.collector, code).Inc()
	return resp, err
}
