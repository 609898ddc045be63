package exporter

import (
	"context"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/demo"
)

// TestDemoShowsEveryKPI: the demo organization gives every catalog KPI an organization value, meets some
// targets and breaches others, and pools GitHub and GitLab services into team and organization values.
func TestDemoShowsEveryKPI(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	d, err := demo.Start(context.Background(), demo.Options{Seed: 1, Dir: t.TempDir(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	load := func() (*config.Config, error) { return config.Load(d.ConfigFile) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	exp := New(NewRegistry(false), Options{Load: load, Now: clock})
	if err := exp.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	exp.SyncOnce(context.Background())
	res := exp.Result()
	met, breached := 0, 0
	for _, k := range catalog.Default().KPIs() {
		s, ok := res.Org(k.ID)
		if !ok {
			t.Errorf("demo has no organization value for %s", k.ID)
			continue
		}
		if s.Met {
			met++
		} else {
			breached++
		}
	}
	if met < 10 || breached < 10 {
		t.Errorf("demo meets %d and breaches %d targets; dashboards and alerts need plenty of both", met, breached)
	}

	// Both hosts feed the DORA keys per service, and the organization pools them.
	for _, svc := range []string{"acme/checkout", "mobile/ios-app", "logistics/shipping"} {
		found := false
		for _, s := range res.Samples {
			if s.KPI.ID == "lead_time_for_changes" && s.Service == svc {
				found = s.Team != ""
			}
		}
		if !found {
			t.Errorf("no lead_time_for_changes with its team for %s", svc)
		}
	}
	org, _ := res.Org("deployment_frequency")
	sum := 0.0
	for _, s := range res.Samples {
		if s.KPI.ID == "deployment_frequency" && s.Service != "" {
			sum += s.Value
		}
	}
	if diff := org.Value - sum; diff > 1e-9 || diff < -1e-9 {
		t.Errorf("organization deployment_frequency %v != sum over GitHub and GitLab services %v", org.Value, sum)
	}

	// Maturity: every area is scored, one attestation expired, one pillar behind its roadmap.
	m := exp.View().Maturity
	behind, expired := 0, 0
	for _, a := range catalog.Default().Areas() {
		ar, ok := m.Area(a.ID)
		if !ok {
			t.Errorf("no maturity result for %s", a.ID)
			continue
		}
		if r, ok := cfg.Roadmap[string(a.ID)]; ok && r.Due.Before(now) && ar.Level < r.Level {
			behind++
		}
		for _, c := range ar.Criteria {
			if c.Evidence == "expired" {
				expired++
			}
		}
	}
	if behind != 1 {
		t.Errorf("%d pillars behind their roadmap after the due date, want the demo's 1", behind)
	}
	if expired != 1 {
		t.Errorf("%d expired attestations, want the demo's 1", expired)
	}
}
