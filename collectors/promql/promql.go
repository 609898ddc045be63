// Package promql feeds KPIs from instant queries against a Prometheus-compatible HTTP API, so a KPI that
// ztmm has no collector for (availability from probe_success, say) is still measured. Result labels are
// mapped to the team and service scope.
package promql

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/config"
)

// Source runs the configured queries on every sync.
type Source struct {
	cfg config.PromQL
	api v1.API
}

// New returns the source for cfg; requests are counted by tel.
func New(cfg config.PromQL, tel *collectors.Telemetry) (*Source, error) {
	var rt http.RoundTripper = http.DefaultTransport
	if cfg.Token.IsSet() {
		rt = &bearer{token: cfg.Token.Value(), base: rt}
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: tel.Transport(cfg.Name, rt)})
	if err != nil {
		return nil, fmt.Errorf("promql %s: %w", cfg.Name, err)
	}
	return &Source{cfg: cfg, api: v1.NewAPI(client)}, nil
}

// Name implements collectors.Source.
func (s *Source) Name() string { return s.cfg.Name }

// Kind implements collectors.Source.
func (s *Source) Kind() string { return "promql" }

// Sync implements collectors.Source. One failing query fails the sync, so a half-answered set of KPIs is
// never mistaken for a complete one; the last good snapshot stays.
func (s *Source) Sync(ctx context.Context) (*collectors.Snapshot, error) {
	snap := &collectors.Snapshot{}
	now := time.Now()
	for _, q := range s.cfg.Queries {
		val, _, _, err := s.api.Query(ctx, q.Query, now)
		if err != nil {
			return nil, fmt.Errorf("query for %s: %w", q.KPI, err)
		}
		switch v := val.(type) {
		case model.Vector:
			for _, smp := range v {
				f := float64(smp.Value)
				if math.IsNaN(f) || math.IsInf(f, 0) {
					continue
				}
				team, service := "", ""
				if q.TeamLabel != "" {
					team = string(smp.Metric[model.LabelName(q.TeamLabel)])
				}
				if q.ServiceLabel != "" {
					service = string(smp.Metric[model.LabelName(q.ServiceLabel)])
				}
				snap.Values = append(snap.Values, collectors.Value{KPI: q.KPI, Team: team, Service: service, Value: f})
			}
		case *model.Scalar:
			// scalar(v) of an empty vector is NaN: no data, which must stay absent rather than become a value.
			if f := float64(v.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
				snap.Values = append(snap.Values, collectors.Value{KPI: q.KPI, Value: f})
			}
		default:
			return nil, fmt.Errorf("query for %s: expected an instant vector or scalar, got %s", q.KPI, val.Type())
		}
	}
	return snap, nil
}

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}
