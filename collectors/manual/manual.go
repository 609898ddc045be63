// Package manual feeds KPIs from a measurements file: dated values that people report (a satisfaction
// survey, a cost review), each valid for a period after its date. It is how no KPI is stuck at "no data"
// because ztmm has no collector for the user's tool.
package manual

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
)

// File is the measurements file.
type File struct {
	Measurements []Measurement `yaml:"measurements"`
}

// Measurement is one reported value of a KPI.
type Measurement struct {
	KPI     string          `yaml:"kpi"`
	Value   config.Quantity `yaml:"value"`
	Date    config.Date     `yaml:"date"`
	Team    string          `yaml:"team"`
	Service string          `yaml:"service"`
	// ValidFor overrides the file's validity for this measurement.
	ValidFor config.Duration `yaml:"valid_for"`
	Note     string          `yaml:"note"` // who measured it and how; never exposed as a label
}

// Source reads the measurements file on every sync, so edits apply without a reload.
type Source struct {
	path     string
	validity time.Duration
	now      func() time.Time
}

// New returns the manual source for cfg.
func New(cfg *config.Config) *Source {
	return &Source{path: cfg.Path(cfg.Manual.File), validity: cfg.Manual.Validity.D(), now: time.Now}
}

// Name implements collectors.Source.
func (s *Source) Name() string { return "manual" }

// Kind implements collectors.Source.
func (s *Source) Kind() string { return "manual" }

// Sync implements collectors.Source: it returns the latest valid measurement per KPI and scope.
func (s *Source) Sync(context.Context) (*collectors.Snapshot, error) {
	f, err := Load(s.path, s.now())
	if err != nil {
		return nil, err
	}
	now := s.now()
	snap := &collectors.Snapshot{}
	latest := map[[3]string]int{} // (kpi, team, service) → index in snap.Values
	for _, m := range f.Measurements {
		valid := s.validity
		if m.ValidFor != 0 {
			valid = m.ValidFor.D()
		}
		if now.Sub(m.Date.Time) > valid {
			continue // expired: the KPI goes absent rather than showing a stale number
		}
		v := collectors.Value{KPI: m.KPI, Team: m.Team, Service: m.Service, Value: m.Value.Value, Time: m.Date.Time}
		k := [3]string{m.KPI, m.Team, m.Service}
		i, seen := latest[k]
		switch {
		case !seen:
			latest[k] = len(snap.Values)
			snap.Values = append(snap.Values, v)
		case !v.Time.Before(snap.Values[i].Time):
			// On the same date the later entry wins: appending a correction is how people fix a typo.
			snap.Values[i] = v
		}
	}
	return snap, nil
}

// Load reads and validates a measurements file.
func Load(path string, now time.Time) (*File, error) {
	var f File
	lines, err := config.DecodeFile(path, &f)
	if err != nil {
		return nil, err
	}
	cat := catalog.Default()
	for i, m := range f.Measurements {
		p := fmt.Sprintf("measurements[%d]", i)
		k, ok := cat.KPI(m.KPI)
		if !ok {
			return nil, lines.Fail(p+".kpi", "unknown KPI %q; expected a KPI id from METRICS.md", m.KPI)
		}
		if m.Value.Kind == "" {
			return nil, lines.Fail(p+".value", "expected the measured value")
		}
		if err := checkValue(k, m.Value); err != nil {
			return nil, lines.Fail(p+".value", "%s", err)
		}
		if m.Date.IsZero() {
			return nil, lines.Fail(p+".date", "expected the date of the measurement, e.g. date: 2026-11-01")
		}
		if m.Date.After(now) {
			return nil, lines.Fail(p+".date", "expected a date that is not in the future, got %s", m.Date.Format(time.DateOnly))
		}
	}
	return &f, nil
}

// checkValue refuses a value whose unit does not fit the KPI, and the two slips people make when they
// copy a number from a report: a percentage written as a plain number, a score off the survey's scale.
func checkValue(k catalog.KPI, q config.Quantity) error {
	switch {
	case q.Kind == "duration" && k.Unit != catalog.Seconds:
		return fmt.Errorf("expected %s for %s, got a duration", unitHint(k.Unit), k.ID)
	case q.Kind == "percent" && k.Unit != catalog.Ratio:
		return fmt.Errorf("expected %s for %s, got a percentage", unitHint(k.Unit), k.ID)
	case q.Kind == "number" && k.Unit == catalog.Ratio && math.Abs(q.Value) > 1:
		// A ratio above 1 is possible (an improvement of 150%) but then it is written as one.
		return fmt.Errorf("expected a ratio from 0 to 1 or a percentage like 18%% for %s, got %v; write %v%% if that is meant", k.ID, q.Value, q.Value)
	case k.Unit == catalog.Score && (q.Value < 1 || q.Value > 5):
		return fmt.Errorf("expected a score from 1 to 5 for %s, got %v", k.ID, q.Value)
	}
	return nil
}

func unitHint(u catalog.Unit) string {
	switch u {
	case catalog.Seconds:
		return "a duration like 45s or a number of seconds"
	case catalog.Ratio:
		return "a ratio like 0.18 or a percentage like 18%"
	case catalog.Score:
		return "a score from 1 to 5"
	case catalog.PerDay:
		return "a number per day"
	}
	return "a number"
}
