package manual

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/kpi"
)

const dir = "../../testdata/manual"

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want string // the whole message after the path
	}{
		{"unknown-kpi.yaml", `:5: measurements[1].kpi: unknown KPI "user_satisfaction"; expected a KPI id from METRICS.md`},
		{"future-date.yaml", `:4: measurements[0].date: expected a date that is not in the future, got 2026-03-02`},
		{"bad-date.yaml", `:4: measurements[0].date: expected a date like 2025-11-01 (YYYY-MM-DD), got "10/02/2026"`},
		{"missing-date.yaml", `:2: measurements[0].date: expected the date of the measurement, e.g. date: 2026-11-01`},
		{"missing-value.yaml", `:5: measurements[1].value: expected the measured value`},
		{"duration-on-ratio.yaml", `:3: measurements[0].value: expected a ratio like 0.18 or a percentage like 18% for infrastructure_cost_reduction, got a duration`},
		{"percent-on-seconds.yaml", `:3: measurements[0].value: expected a duration like 45s or a number of seconds for network_threat_detection_time, got a percentage`},
		{"percent-on-score.yaml", `:3: measurements[0].value: expected a score from 1 to 5 for user_experience_score, got a percentage`},
		{"ratio-as-plain-number.yaml", `:3: measurements[0].value: expected a ratio from 0 to 1 or a percentage like 18% for infrastructure_cost_reduction, got 18; write 18% if that is meant`},
		{"score-out-of-range.yaml", `:3: measurements[0].value: expected a score from 1 to 5 for user_experience_score, got 46`},
		{"unknown-field.yaml", `:5: measurements[0].when: unknown field; expected one of: date, kpi, note, service, team, valid_for, value`},
		{"does-not-exist.yaml", `: expected a file; it does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			_, err := Load(path, now)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if got, want := err.Error(), path+tt.want; got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestLoadValid(t *testing.T) {
	for _, file := range []string{"valid.yaml", "empty.yaml", "../config/measurements.yml"} {
		if _, err := Load(filepath.Join(dir, file), now); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// newSource is the source as the exporter builds it from a configuration.
func newSource(t *testing.T, file string, validity time.Duration, at time.Time) *Source {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	s := New(&config.Config{Manual: &config.Manual{File: abs, Validity: config.Duration(validity)}})
	s.now = func() time.Time { return at }
	return s
}

func valueKey(v collectors.Value) string {
	return fmt.Sprintf("%s{%s,%s}", v.KPI, v.Team, v.Service)
}

func TestSync(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name     string
		validity time.Duration
		at       time.Time
		want     map[string]float64
	}{
		{
			name:     "default validity: the latest per scope, expired values absent, valid_for overrides",
			validity: 35 * day,
			at:       now,
			want: map[string]float64{
				"user_experience_score{,}":                         4.6,    // the February survey supersedes January's
				"network_threat_detection_time{,}":                 45,     // 36 days old, valid_for 90d
				"application_availability{,acme/checkout}":         0.9995, // written without a team
				"application_availability{payments,acme/checkout}": 0.995,
				// infrastructure_cost_reduction: 36 days old with 35 days validity: absent
				// endpoint_performance_impact: 2 days old with valid_for 1d: absent
			},
		},
		{
			name:     "a value exactly as old as its validity still counts",
			validity: 35 * day,
			at:       time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), // 2026-01-24 + 35 days
			want: map[string]float64{
				"user_experience_score{,}":                         4.6,
				"infrastructure_cost_reduction{platform,}":         0.18,
				"network_threat_detection_time{,}":                 45,
				"endpoint_performance_impact{,}":                   0.03,
				"application_availability{,acme/checkout}":         0.9995,
				"application_availability{payments,acme/checkout}": 0.995,
			},
		},
		{
			name:     "a shorter configured validity expires more",
			validity: 30 * day,
			at:       now,
			want: map[string]float64{
				"user_experience_score{,}":                         4.6,
				"network_threat_detection_time{,}":                 45,
				"application_availability{,acme/checkout}":         0.9995,
				"application_availability{payments,acme/checkout}": 0.995,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := newSource(t, "valid.yaml", tt.validity, tt.at).Sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, v := range snap.Values {
				k := valueKey(v)
				if _, dup := got[k]; dup {
					t.Errorf("%s reported twice; want only the latest", k)
				}
				got[k] = v.Value
				if v.Time.IsZero() {
					t.Errorf("%s has no time; the engine needs the measurement date to pick the latest", k)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d values %v, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for k, w := range tt.want {
				if g, ok := got[k]; !ok || g != w {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
				}
			}
		})
	}
}

func TestSyncLatestWins(t *testing.T) {
	tests := []struct {
		name string
		body string
		want float64
	}{
		{"later date wins whatever the file order", `
measurements:
  - {kpi: user_experience_score, value: 4.8, date: 2026-02-20}
  - {kpi: user_experience_score, value: 3.0, date: 2026-02-01}
`, 4.8},
		{"on the same date the later entry (a correction) wins", `
measurements:
  - {kpi: user_experience_score, value: 3.0, date: 2026-02-20}
  - {kpi: user_experience_score, value: 4.8, date: 2026-02-20}
`, 4.8},
		{"an expired newer-looking entry does not hide a valid one", `
measurements:
  - {kpi: user_experience_score, value: 3.0, date: 2025-12-01}
  - {kpi: user_experience_score, value: 4.8, date: 2026-02-20}
`, 4.8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.yaml")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			s := New(&config.Config{Manual: &config.Manual{File: path, Validity: config.DefaultManualValidity}})
			s.now = func() time.Time { return now }
			snap, err := s.Sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Values) != 1 || snap.Values[0].Value != tt.want {
				t.Fatalf("values %+v, want one value %v", snap.Values, tt.want)
			}
			// The engine serves it: a service-less, team-less measurement is the organization's value.
			res, _ := kpi.Compute(catalog.Default(), &config.Config{Window: config.DefaultWindow}, []*collectors.Snapshot{snap}, now)
			if got, ok := res.Org("user_experience_score"); !ok || got.Value != tt.want {
				t.Errorf("engine serves %v (present %v), want %v", got.Value, ok, tt.want)
			}
		})
	}
}

// An edit that breaks the file fails the sync (the scheduler keeps serving the last good values) and a
// fixed file is read again on the next sync without a reload.
func TestSyncRereadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.yaml")
	s := New(&config.Config{Manual: &config.Manual{File: path, Validity: config.DefaultManualValidity}})
	s.now = func() time.Time { return now }
	steps := []struct {
		body    string
		wantErr string
		want    []float64
	}{
		{"measurements: [{kpi: user_experience_score, value: 4.6, date: 2026-02-10}]", "", []float64{4.6}},
		{"measurements: [{kpi: user_experience_scor, value: 4.6, date: 2026-02-10}]", `unknown KPI "user_experience_scor"`, nil},
		{"measurements: [{kpi: user_experience_score, value: 4.7, date: 2026-02-11}]", "", []float64{4.7}},
	}
	for i, st := range steps {
		if err := os.WriteFile(path, []byte(st.body), 0o600); err != nil {
			t.Fatal(err)
		}
		snap, err := s.Sync(context.Background())
		if st.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), st.wantErr) {
				t.Errorf("step %d: error %v, want one containing %q", i, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var got []float64
		for _, v := range snap.Values {
			got = append(got, v.Value)
		}
		if !slices.Equal(got, st.want) {
			t.Errorf("step %d: values %v, want %v", i, got, st.want)
		}
	}
	if s.Name() != "manual" || s.Kind() != "manual" {
		t.Errorf("name %q kind %q, want manual/manual: the collector label and Adopt depend on them", s.Name(), s.Kind())
	}
}
