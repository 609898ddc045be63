package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Duration is a Prometheus-style duration: 30d, 2h, 15m, 1w, 90s.
type Duration time.Duration

func (d *Duration) decodeNode(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		if _, nerr := strconv.ParseFloat(n.Value, 64); nerr == nil {
			return fmt.Errorf("expected a positive duration with a unit like 30d, 2h or 15m, got the bare number %s (write e.g. %sd or %ss)", n.Value, n.Value, n.Value)
		}
		return fmt.Errorf("expected a positive duration like 30d, 2h or 15m, got %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration the way it is written in config (30d, 2h).
func (d Duration) String() string { return model.Duration(d).String() }

// MarshalYAML writes the duration back in config syntax.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Date is a calendar day, YYYY-MM-DD, at 00:00 UTC.
type Date struct{ time.Time }

func (d *Date) decodeNode(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		return fmt.Errorf("expected a date like 2025-11-01 (YYYY-MM-DD), got %q", n.Value)
	}
	d.Time = t
	return nil
}

// MarshalYAML writes the date as YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.Format(time.DateOnly), nil
}

// Regexp is a Go regular expression.
type Regexp struct{ *regexp.Regexp }

func (r *Regexp) decodeNode(n *yaml.Node) error {
	re, err := regexp.Compile(n.Value)
	if err != nil {
		return fmt.Errorf("expected a regular expression (Go RE2 syntax): %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	r.Regexp = re
	return nil
}

// MarshalYAML writes the expression back.
func (r Regexp) MarshalYAML() (any, error) {
	if r.Regexp == nil {
		return nil, nil
	}
	return r.String(), nil
}

// String returns the expression, or "" when none is set (the embedded method would panic on nil).
func (r Regexp) String() string {
	if r.Regexp == nil {
		return ""
	}
	return r.Regexp.String()
}

// MarshalText writes the expression for encoding/json and slog; an unset one would otherwise panic.
func (r Regexp) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// MustRegexp compiles s; for defaults.
func MustRegexp(s string) Regexp { return Regexp{regexp.MustCompile(s)} }

// Secret is a credential. In the file it is only ever a ${ENV} reference (literal secrets are refused so
// that config files can be shared and committed); sources also accept a *_file field. Its value never
// appears in logs, labels, errors or dumps.
type Secret struct {
	value string
	from  string // "env NAME" or "file PATH", for messages
}

var (
	envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
	// bareEnvRef is $NAME without braces: a reference the user meant, safe to echo because it names a variable.
	bareEnvRef = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)$`)
)

// errLiteralSecret is deliberately free of the value it refuses.
var errLiteralSecret = errors.New("expected a ${ENV_VAR} reference; secrets are never written into the config file, put it in an environment variable or in the matching *_file field")

func (s *Secret) decodeNode(n *yaml.Node) error {
	m := envRef.FindStringSubmatch(strings.TrimSpace(n.Value))
	if m == nil {
		if b := bareEnvRef.FindStringSubmatch(strings.TrimSpace(n.Value)); b != nil {
			return fmt.Errorf("expected a ${ENV_VAR} reference with braces: write ${%s}", b[1])
		}
		return errLiteralSecret
	}
	v, ok := os.LookupEnv(m[1])
	if !ok || v == "" {
		return fmt.Errorf("expected environment variable %s to be set and non-empty; it is not", m[1])
	}
	*s = Secret{value: strings.TrimSpace(v), from: "env " + m[1]}
	return nil
}

// Value returns the secret. Call it only where the credential is used.
func (s Secret) Value() string { return s.value }

// IsSet reports whether a value was provided.
func (s Secret) IsSet() bool { return s.value != "" }

// String never reveals the value.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "<secret>"
}

// GoString never reveals the value (fmt %#v).
func (s Secret) GoString() string { return s.String() }

// LogValue never reveals the value (slog.LogValuer).
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText never reveals the value: encoding/json and slog's handlers use it when a struct holding a
// secret is logged or serialised whole.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML redacts the value in dumps.
func (s Secret) MarshalYAML() (any, error) {
	if s.value == "" {
		return nil, nil
	}
	return "<secret>", nil
}

// readSecretFile reads a secret from a file; the file's content never appears in an error.
func readSecretFile(p string) (Secret, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Secret{}, fmt.Errorf("expected a readable file holding the secret; %s does not exist", p)
		}
		return Secret{}, fmt.Errorf("expected a readable file holding the secret; cannot read %s: %v", p, errors.Unwrap(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return Secret{}, fmt.Errorf("expected a file holding the secret; %s is empty", p)
	}
	return Secret{value: v, from: "file " + p}, nil
}

// Quantity is a KPI value in the KPI's base unit. It is written as a number or, for clarity, with a unit:
// a duration (2h, 15m) for seconds KPIs, a percentage (99.5%) for ratio KPIs. The unit is checked against
// the KPI after decoding.
type Quantity struct {
	Value float64
	Kind  string // "number", "duration" or "percent"
	raw   string
}

func (q *Quantity) decodeNode(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	q.raw = s
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		*q = Quantity{Value: f, Kind: "number", raw: s}
		return nil
	}
	if strings.HasSuffix(s, "%") {
		if f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64); err == nil {
			*q = Quantity{Value: f / 100, Kind: "percent", raw: s}
			return nil
		}
	}
	if d, err := model.ParseDuration(s); err == nil {
		*q = Quantity{Value: time.Duration(d).Seconds(), Kind: "duration", raw: s}
		return nil
	}
	return fmt.Errorf("expected a number, a duration like 2h or a percentage like 99.5%%, got %q", s)
}

// MarshalYAML writes the quantity as it was written.
func (q Quantity) MarshalYAML() (any, error) {
	if q.raw != "" && q.Kind != "number" {
		return q.raw, nil
	}
	return q.Value, nil
}

// Globs is a list of shell-style patterns (path.Match syntax: *, ?, [a-z]) over service names.
type Globs []string

// Match reports whether s matches any pattern.
func (g Globs) Match(s string) bool {
	for _, p := range g {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

func (g Globs) check() error {
	for _, p := range g {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("expected shell-style patterns like acme/pay-*; %q is malformed", p)
		}
	}
	return nil
}
