// Package config is ztmm's configuration file: one YAML document, decoded strictly (an unknown key is an
// error), validated whole before anything runs, with every error naming the file, line and field and what
// is expected. Secrets come from *_file fields or ${ENV} references and are redacted in every dump.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
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
	// rootLine is where the document starts: the line of errors about a missing top-level field.
	rootLine int
}

// Team is a team and the services it owns.
type Team struct {
	Name     string `yaml:"name"`
	Services Globs  `yaml:"services"`
}

// KPIOverride replaces a KPI's target, and optionally its window.
type KPIOverride struct {
	Op     catalog.Op `yaml:"op,omitempty"` // empty: the document's operator
	Value  *Quantity  `yaml:"value,omitempty"`
	Window Duration   `yaml:"window,omitempty"` // zero: the configured window
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
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the configuration is empty; expected at least organization: <name>, and the sources to read"}
		}
		return nil, syntaxError(b, file, err)
	}
	if emptyDocument(&root) {
		return nil, &Error{File: file, Line: root.Line, Msg: "the configuration is empty; expected at least organization: <name>, and the sources to read"}
	}
	// A trailing "---" some editors and generators add is an empty document, not a second configuration.
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(b, file, err)
		}
		if !emptyDocument(&extra) {
			return nil, &Error{File: file, Line: extra.Line, Msg: "expected one YAML document, found a second one after \"---\"; merge it into the first or remove it"}
		}
	}
	abs, _ := filepath.Abs(file)
	c := &Config{File: file, Dir: filepath.Dir(abs)}
	d := &decoder{file: file, lines: map[string]int{}}
	if err := d.decode(&root, reflect.ValueOf(c).Elem(), ""); err != nil {
		return nil, err
	}
	c.lines = d.lines
	c.rootLine = root.Content[0].Line
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func emptyDocument(n *yaml.Node) bool {
	return len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null")
}

// syntaxError turns a YAML parser error into file:line form, with a hint for the mistakes whose parser
// message does not say what to do.
func syntaxError(b []byte, file string, err error) error {
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	lines := strings.Split(string(b), "\n")
	switch {
	case line >= 1 && line <= len(lines) && strings.Contains(lines[line-1][:len(lines[line-1])-len(strings.TrimLeft(lines[line-1], " \t"))], "\t"):
		text = "expected indentation with spaces, found a tab (YAML does not allow tabs for indentation)"
	case strings.Contains(text, "did not find expected key") || strings.Contains(text, "mapping values are not allowed"):
		text += " (check the indentation of the block starting here: keys of one mapping must start in the same column)"
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + text}
}

// fail returns the error for field, at the line the field was written on (or its closest parent's).
func (c *Config) fail(field, format string, args ...any) error {
	line := c.rootLine
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
		// since is missing, so point at the Git host that needs it.
		host := "github"
		if len(c.GitHub) == 0 {
			host = "gitlab"
		}
		return &Error{File: c.File, Line: c.lines[host], Field: "since", Msg: "expected a fixed history start (e.g. since: 2025-11-01) because " + host + " is configured: every DORA value and counter is rebuilt from it"}
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

	for _, id := range c.inFileOrder("targets", mapKeys(c.Targets)) {
		o := c.Targets[id]
		p := "targets." + id
		k, ok := cat.KPI(id)
		if !ok {
			return c.fail(p, "unknown KPI%s; expected a KPI id from METRICS.md", didYouMean(id, cat.KPIIDs()))
		}
		if o.Op != "" && !o.Op.Valid() {
			return c.fail(p+".op", "expected one of <, <=, >, >=, got %q", o.Op)
		}
		// Dashboards colour and alerts predict by the catalog's direction, so an override may tighten or
		// loosen a target but not turn "lower is better" into "higher is better".
		if o.Op != "" && o.Op.LowerIsBetter() != k.Op.LowerIsBetter() {
			want := "< or <="
			if !k.Op.LowerIsBetter() {
				want = "> or >="
			}
			return c.fail(p+".op", "expected %s (%s is better for %s), got %q", want, map[bool]string{true: "lower", false: "higher"}[k.Op.LowerIsBetter()], k.ID, o.Op)
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
	for _, id := range c.inFileOrder("baselines", mapKeys(c.Baselines)) {
		b := c.Baselines[id]
		p := "baselines." + id
		k, ok := cat.KPI(id)
		if !ok || k.Statistic != catalog.Reduction {
			var red []string
			for _, k := range cat.KPIs() {
				if k.Statistic == catalog.Reduction {
					red = append(red, k.ID)
				}
			}
			if ok {
				return c.fail(p, "%s is not a reduction KPI and takes no baseline; expected one of %s", id, strings.Join(red, ", "))
			}
			return c.fail(p, "unknown reduction KPI%s; expected one of %s", didYouMean(id, red), strings.Join(red, ", "))
		}
		if b <= 0 {
			return c.fail(p, "expected a positive number of incidents per window at the programme's start, got %v", b)
		}
	}
	for _, area := range c.inFileOrder("roadmap", mapKeys(c.Roadmap)) {
		r := c.Roadmap[area]
		p := "roadmap." + area
		if _, ok := cat.Area(catalog.Area(area)); !ok {
			return c.fail(p, "unknown area%s; expected one of %s", didYouMean(area, strings.Split(areaList(cat), ", ")), areaList(cat))
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
		// The manual source has no name field: its collector label is always "manual".
		if name == "manual" && kind != "manual" {
			return c.fail(p+".name", "the collector name \"manual\" is reserved for the manual source; expected another name")
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

func mapKeys[V any](m map[string]V) []string {
	return slices.Collect(maps.Keys(m))
}

// inFileOrder sorts the keys of the mapping at path by the line they were written on, so that of several
// mistakes the first in the file is reported, the same one on every run.
func (c *Config) inFileOrder(path string, keys []string) []string {
	slices.SortFunc(keys, func(a, b string) int {
		if d := c.lines[path+"."+a] - c.lines[path+"."+b]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return keys
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
	case k.Unit == catalog.Score && (q.Value < 1 || q.Value > 5):
		return fmt.Errorf("expected a score from 1 to 5 for %s, got %s", k.ID, q.raw)
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
