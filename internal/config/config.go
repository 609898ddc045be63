// Package config is ztmm's configuration file: one YAML document, decoded strictly (an unknown key is an
// error), validated whole before anything runs, with every error naming the file, line and field and what
// is expected. Secrets come from *_file fields or ${ENV} references and are redacted in every dump.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Config is the whole configuration file.
type Config struct {
	Organization string `yaml:"organization"`
	// Window is the default rolling window of every KPI.
	Window Duration `yaml:"window"`
	// Since is the fixed history start: every counter and KPI is reproducible from upstream from here.
	Since Date `yaml:"since"`
	// AttributionWindow is how long after a deployment an incident of its service marks it failed.
	AttributionWindow Duration `yaml:"attribution_window"`

	Teams     []Team                   `yaml:"teams"`
	Targets   map[string]KPIOverride   `yaml:"targets"`
	Baselines map[string]float64       `yaml:"baselines"`
	Roadmap   map[string]RoadmapTarget `yaml:"roadmap"`

	GitHub []GitHub `yaml:"github"`
	GitLab []GitLab `yaml:"gitlab"`
	PromQL []PromQL `yaml:"promql"`
	Manual *Manual  `yaml:"manual"`

	Assessment *Assessment `yaml:"assessment"`
	Maturity   *Maturity   `yaml:"maturity"`

	// File is the path the configuration was read from; Dir is its directory, against which relative
	// paths in the file are resolved.
	File string `yaml:"-"`
	Dir  string `yaml:"-"`

	lines map[string]int
}

// Team is a team and the services it owns.
type Team struct {
	Name     string `yaml:"name"`
	Services Globs  `yaml:"services"`
}

// KPIOverride replaces a KPI's target, and optionally its window.
type KPIOverride struct {
	Op     catalog.Op `yaml:"op"`
	Value  *Quantity  `yaml:"value"`
	Window Duration   `yaml:"window"`
}

// RoadmapTarget is the document's "Target State Definition" for one area: a level and when.
type RoadmapTarget struct {
	Level int  `yaml:"level"`
	Due   Date `yaml:"due"`
}

// Manual is the measurements file for survey-style KPIs.
type Manual struct {
	File string `yaml:"file"`
	// Validity is how long a measurement counts after its date (default 35d: a monthly survey plus slack).
	Validity Duration `yaml:"validity"`
	Interval Duration `yaml:"interval"`
}

// Assessment is the attestations file of the governance council.
type Assessment struct {
	File string `yaml:"file"`
	// Validity is how long an attestation holds (default 90d: the document's quarterly reassessment).
	Validity Duration `yaml:"validity"`
}

// Defaults.
const (
	DefaultWindow            = Duration(30 * 24 * time.Hour)
	DefaultAttributionWindow = Duration(7 * 24 * time.Hour)
	DefaultManualValidity    = Duration(35 * 24 * time.Hour)
	DefaultAttestValidity    = Duration(90 * 24 * time.Hour)
)

// Load reads, decodes and validates the configuration file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{File: path, Msg: "expected a configuration file; it does not exist"}
		}
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the configuration file: %v", errors.Unwrap(err))}
	}
	return Parse(b, path)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse decodes and validates a configuration read from file (used in messages and to resolve relative paths).
func Parse(b []byte, file string) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) || strings.TrimSpace(string(b)) == "" {
			return nil, &Error{File: file, Msg: "the configuration is empty; expected at least organization and one source"}
		}
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			var line int
			fmt.Sscan(m[1], &line)
			return nil, &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
		}
		return nil, &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "expected one YAML document, found a second one"}
	}
	abs, _ := filepath.Abs(file)
	c := &Config{File: file, Dir: filepath.Dir(abs)}
	d := &decoder{file: file, lines: map[string]int{}}
	if err := d.decode(&root, reflect.ValueOf(c).Elem(), ""); err != nil {
		return nil, err
	}
	c.lines = d.lines
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// fail returns the error for field, at the line the field was written on (or its closest parent's).
func (c *Config) fail(field, format string, args ...any) error {
	line := 0
	for p := field; p != ""; p = parent(p) {
		if l, ok := c.lines[p]; ok {
			line = l
			break
		}
	}
	return &Error{File: c.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func parent(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

// Has reports whether field was written in the file.
func (c *Config) Has(field string) bool {
	_, ok := c.lines[field]
	return ok
}

// Path resolves p against the configuration file's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

func (c *Config) validate() error {
	cat := catalog.Default()
	if strings.TrimSpace(c.Organization) == "" {
		return c.fail("organization", "expected the organization's name, e.g. organization: Acme")
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.AttributionWindow == 0 {
		c.AttributionWindow = DefaultAttributionWindow
	}
	if !c.Since.IsZero() && c.Since.After(time.Now()) {
		return c.fail("since", "expected a history start in the past, got %s", c.Since.Format(time.DateOnly))
	}
	if (len(c.GitHub) > 0 || len(c.GitLab) > 0) && c.Since.IsZero() {
		return c.fail("since", "expected a fixed history start (e.g. since: 2025-11-01) when a Git host is configured: every DORA value and counter is rebuilt from it")
	}

	teams := map[string]bool{}
	for i, t := range c.Teams {
		p := fmt.Sprintf("teams[%d]", i)
		if !labelValue.MatchString(t.Name) {
			return c.fail(p+".name", "expected a team name of letters, digits, '-', '_' or '.', got %q", t.Name)
		}
		if teams[t.Name] {
			return c.fail(p+".name", "team %q is defined twice; expected each team once", t.Name)
		}
		teams[t.Name] = true
		if len(t.Services) == 0 {
			return c.fail(p+".services", "expected at least one service pattern for team %q, e.g. [\"acme/checkout\", \"acme/pay-*\"]", t.Name)
		}
		if err := t.Services.check(); err != nil {
			return c.fail(p+".services", "%v", err)
		}
	}

	for id, o := range c.Targets {
		p := "targets." + id
		k, ok := cat.KPI(id)
		if !ok {
			return c.fail(p, "unknown KPI%s; expected a KPI id from METRICS.md", didYouMean(id, cat.KPIIDs()))
		}
		if o.Op != "" && !o.Op.Valid() {
			return c.fail(p+".op", "expected one of <, <=, >, >=, got %q", o.Op)
		}
		if o.Value == nil && o.Op != "" {
			return c.fail(p+".value", "expected a target value with the operator")
		}
		if o.Value != nil {
			if err := checkUnit(k, *o.Value); err != nil {
				return c.fail(p+".value", "%v", err)
			}
		}
	}
	for id, b := range c.Baselines {
		p := "baselines." + id
		k, ok := cat.KPI(id)
		if !ok || k.Statistic != catalog.Reduction {
			var red []string
			for _, k := range cat.KPIs() {
				if k.Statistic == catalog.Reduction {
					red = append(red, k.ID)
				}
			}
			return c.fail(p, "expected a reduction KPI (%s)%s", strings.Join(red, ", "), didYouMean(id, red))
		}
		if b <= 0 {
			return c.fail(p, "expected a positive number of incidents per window at the programme's start, got %v", b)
		}
	}
	for area, r := range c.Roadmap {
		p := "roadmap." + area
		if _, ok := cat.Area(catalog.Area(area)); !ok {
			return c.fail(p, "unknown area; expected one of %s", areaList(cat))
		}
		if r.Level < 1 || r.Level > 5 {
			return c.fail(p+".level", "expected a maturity level from 1 to 5, got %d", r.Level)
		}
		if r.Due.IsZero() {
			return c.fail(p+".due", "expected the date the level is due, e.g. due: 2027-06-30")
		}
	}

	names := map[string]string{}
	checkName := func(p, name, kind string) error {
		if !labelValue.MatchString(name) {
			return c.fail(p+".name", "expected a collector name of letters, digits, '-', '_' or '.', got %q", name)
		}
		if prev, dup := names[name]; dup {
			return c.fail(p+".name", "collector name %q is already used by %s; expected unique names", name, prev)
		}
		names[name] = p
		return nil
	}
	for i := range c.GitHub {
		if err := c.GitHub[i].validate(c, fmt.Sprintf("github[%d]", i), checkName); err != nil {
			return err
		}
	}
	for i := range c.GitLab {
		if err := c.GitLab[i].validate(c, fmt.Sprintf("gitlab[%d]", i), checkName); err != nil {
			return err
		}
	}
	for i := range c.PromQL {
		if err := c.PromQL[i].validate(c, fmt.Sprintf("promql[%d]", i), checkName); err != nil {
			return err
		}
	}
	if c.Manual != nil {
		if err := c.Manual.validate(c, checkName); err != nil {
			return err
		}
	}
	if c.Assessment != nil {
		if c.Assessment.File == "" {
			return c.fail("assessment.file", "expected the path of the assessment file")
		}
		if _, err := os.Stat(c.Path(c.Assessment.File)); err != nil {
			return c.fail("assessment.file", "expected a readable assessment file; %s does not exist (ztmm-exporter --assessment.template prints one to start from)", c.Path(c.Assessment.File))
		}
		if c.Assessment.Validity == 0 {
			c.Assessment.Validity = DefaultAttestValidity
		}
	}
	if c.Maturity != nil {
		if err := c.Maturity.validate(c); err != nil {
			return err
		}
	}
	return nil
}

// labelValue is what ztmm accepts for names that become label values.
var labelValue = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func didYouMean(s string, known []string) string {
	if c := catalog.Closest(s, known); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

func areaList(cat *catalog.Catalog) string {
	var ids []string
	for _, a := range cat.AreaIDs() {
		ids = append(ids, string(a))
	}
	return strings.Join(ids, ", ")
}

// checkUnit refuses a quantity written in a unit that does not fit the KPI.
func checkUnit(k catalog.KPI, q Quantity) error {
	switch {
	case q.Kind == "duration" && k.Unit != catalog.Seconds:
		return fmt.Errorf("expected a value in %s for %s, got the duration %q", k.Unit, k.ID, q.raw)
	case q.Kind == "percent" && k.Unit != catalog.Ratio:
		return fmt.Errorf("expected a value in %s for %s, got the percentage %q", k.Unit, k.ID, q.raw)
	case k.Unit == catalog.Ratio && (q.Value < 0 || q.Value > 1):
		return fmt.Errorf("expected a ratio between 0 and 1 (or a percentage like 99%%) for %s, got %s", k.ID, q.raw)
	case q.Value < 0:
		return fmt.Errorf("expected a non-negative value for %s, got %s", k.ID, q.raw)
	}
	return nil
}

// TeamOf returns the team owning service: the first team with a matching pattern, or "".
func (c *Config) TeamOf(service string) string {
	for _, t := range c.Teams {
		if t.Services.Match(service) {
			return t.Name
		}
	}
	return ""
}

// TeamNames returns the configured teams in order.
func (c *Config) TeamNames() []string {
	var out []string
	for _, t := range c.Teams {
		out = append(out, t.Name)
	}
	return out
}

// Target returns the KPI's operator and target after overrides.
func (c *Config) Target(k catalog.KPI) (catalog.Op, float64) {
	op, v := k.Op, k.Target
	if o, ok := c.Targets[k.ID]; ok {
		if o.Op != "" {
			op = o.Op
		}
		if o.Value != nil {
			v = o.Value.Value
		}
	}
	return op, v
}

// WindowOf returns the KPI's window: its override, else the configured window.
func (c *Config) WindowOf(id string) time.Duration {
	if o, ok := c.Targets[id]; ok && o.Window != 0 {
		return o.Window.D()
	}
	return c.Window.D()
}

// Dump returns the effective configuration as YAML with every secret redacted.
func (c *Config) Dump() ([]byte, error) { return yaml.Marshal(c) }

// SourceNames returns the names of all configured sources.
func (c *Config) SourceNames() []string {
	var out []string
	for _, g := range c.GitHub {
		out = append(out, g.Name)
	}
	for _, g := range c.GitLab {
		out = append(out, g.Name)
	}
	for _, p := range c.PromQL {
		out = append(out, p.Name)
	}
	if c.Manual != nil {
		out = append(out, "manual")
	}
	slices.Sort(out)
	return out
}
