package collectors

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// samples gathers reg as name{label values in label-name order} → value, gauges and counters alike.
func samples(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			k := mf.GetName() + "{"
			for i, l := range m.GetLabel() {
				if i > 0 {
					k += ","
				}
				k += l.GetValue()
			}
			k += "}"
			if m.GetCounter() != nil {
				out[k] = m.GetCounter().GetValue()
			} else {
				out[k] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTelemetryCountsRequestsByCode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/limited":
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()

	reg := prometheus.NewPedanticRegistry()
	tel := NewTelemetry(reg)
	gh := &http.Client{Transport: tel.Transport("github", nil)}
	gl := &http.Client{Transport: tel.Transport("gitlab", roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	}))}
	for _, p := range []string{"/ok", "/ok", "/missing", "/limited"} {
		resp, err := gh.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if _, err := gl.Get(srv.URL); err == nil {
		t.Fatal("the failing transport's error was swallowed")
	}
	tel.SetRateLimitRemaining("github", 4999)

	want := map[string]float64{
		"ztmm_upstream_requests_total{200,github}":   2,
		"ztmm_upstream_requests_total{404,github}":   1,
		"ztmm_upstream_requests_total{429,github}":   1,
		"ztmm_upstream_requests_total{error,gitlab}": 1,
		"ztmm_upstream_rate_limit_remaining{github}": 4999,
	}
	if got := samples(t, reg); sortedKeys(got) != sortedKeys(want) {
		t.Errorf("telemetry\n%s\nwant\n%s", sortedKeys(got), sortedKeys(want))
	}

	// A reload that removes a collector drops its series and keeps the others.
	tel.Forget("github")
	want = map[string]float64{"ztmm_upstream_requests_total{error,gitlab}": 1}
	if got := samples(t, reg); sortedKeys(got) != sortedKeys(want) {
		t.Errorf("after Forget(github)\n%s\nwant\n%s", sortedKeys(got), sortedKeys(want))
	}
}

func TestNilTelemetry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	var tel *Telemetry
	c := &http.Client{Transport: tel.Transport("x", nil)}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tel.SetRateLimitRemaining("x", 1)
	tel.Forget("x")
}
