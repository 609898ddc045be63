package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/ztmm/ztmm/internal/catalog"
)

// schedule defaults a source's interval (how often it syncs) and timeout (how long one sync may take)
// and checks that they fit together.
func (c *Config) schedule(p string, interval, timeout *Duration, def time.Duration) error {
	if *interval == 0 {
		*interval = Duration(def)
	}
	if *timeout == 0 {
		*timeout = Duration(min(interval.D(), 5*time.Minute))
	}
	if *timeout > *interval {
		return c.fail(p+".timeout", "expected a timeout no longer than the interval (%s), got %s", *interval, *timeout)
	}
	return nil
}

// checkURL validates an upstream base URL.
func (c *Config) checkURL(p, raw string, required bool) (*url.URL, error) {
	if raw == "" {
		if required {
			return nil, c.fail(p, "expected the upstream's base URL, e.g. https://prometheus.example.com/")
		}
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := redactUserinfo(raw)
		if !strings.Contains(raw, "://") {
			return nil, c.fail(p, "expected an http:// or https:// URL, got %q (add the scheme, e.g. https://%s)", shown, shown)
		}
		return nil, c.fail(p, "expected an http:// or https:// URL, got %q", shown)
	}
	if u.User != nil {
		return nil, c.fail(p, "expected a URL without credentials in it; use the token or token_file field")
	}
	return u, nil
}

// secret resolves a credential from its ${ENV} field or its *_file field; exactly one may be given.
func (c *Config) secret(p, field string, inline *Secret, file string, required bool) error {
	switch {
	case inline.IsSet() && file != "":
		return c.fail(p+"."+field+"_file", "expected either %s or %s_file, not both", field, field)
	case file != "" && looksLikeToken(file) && !exists(c.Path(file)):
		return c.fail(p+"."+field+"_file", "expected the path of a file holding the %s; the value looks like the %s itself (not shown here): put it in a file and give that file's path, or reference an environment variable with %s: ${ENV_VAR}", field, field, field)
	case file != "":
		s, err := readSecretFile(c.Path(file))
		if err != nil {
			return c.fail(p+"."+field+"_file", "%v", err)
		}
		*inline = s
	case !inline.IsSet() && required:
		return c.fail(p, "expected a credential: %s_file (a path) or %s: ${ENV_VAR}", field, field)
	}
	return nil
}

// checkRepos checks a list of repositories (GitHub owner/repo; GitLab group/project, subgroups allowed).
func (c *Config) checkRepos(p string, repos []string, subgroups bool) error {
	for i, r := range repos {
		n := strings.Count(r, "/")
		if n < 1 || (!subgroups && n > 1) || strings.HasPrefix(r, "/") || strings.HasSuffix(r, "/") || strings.Contains(r, "//") {
			want := "owner/repo"
			if subgroups {
				want = "group/project or group/subgroup/project"
			}
			return c.fail(fmt.Sprintf("%s[%d]", p, i), "expected %s, got %q", want, r)
		}
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// redactUserinfo hides anything before an '@' in the authority of a URL that failed to parse: it is
// probably user:password, and the URL is about to be echoed in an error.
func redactUserinfo(raw string) string {
	rest, scheme := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		return scheme + "<redacted>" + rest[i:]
	}
	return raw
}

// tokenPrefixes are the prefixes of GitHub and GitLab tokens.
var tokenPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glptt-"}

// looksLikeToken reports whether a *_file value is probably the secret itself rather than a path, so
// that it is not echoed in the "does not exist" error.
func looksLikeToken(v string) bool {
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return len(v) >= 20 && !strings.ContainsAny(v, `/\.`)
}

// PromQL is a Prometheus-compatible query API that feeds KPIs with instant queries.
type PromQL struct {
	Name      string   `yaml:"name"`
	URL       string   `yaml:"url"`
	Interval  Duration `yaml:"interval"`
	Timeout   Duration `yaml:"timeout"`
	Token     Secret   `yaml:"bearer_token"`
	TokenFile string   `yaml:"bearer_token_file"`
	Queries   []Query  `yaml:"queries"`
}

// Query is one instant query whose result samples become values of a KPI.
type Query struct {
	KPI   string `yaml:"kpi"`
	Query string `yaml:"query"`
	// TeamLabel and ServiceLabel name the result labels that carry the scope. A sample without them is
	// an organization value (or a team value when only the team label is present).
	TeamLabel    string `yaml:"team_label"`
	ServiceLabel string `yaml:"service_label"`
}

func (q *PromQL) validate(c *Config, p string, checkName func(p, name, kind string) error) error {
	if q.Name == "" {
		q.Name = "promql"
	}
	if err := checkName(p, q.Name, "promql"); err != nil {
		return err
	}
	if _, err := c.checkURL(p+".url", q.URL, true); err != nil {
		return err
	}
	if err := c.schedule(p, &q.Interval, &q.Timeout, time.Minute); err != nil {
		return err
	}
	if err := c.secret(p, "bearer_token", &q.Token, q.TokenFile, false); err != nil {
		return err
	}
	if len(q.Queries) == 0 {
		return c.fail(p+".queries", "expected at least one query, e.g. {kpi: application_availability, query: 'avg_over_time(probe_success[30d])'}")
	}
	seen := map[string]bool{}
	for i, qq := range q.Queries {
		qp := fmt.Sprintf("%s.queries[%d]", p, i)
		if _, ok := catalog.Default().KPI(qq.KPI); !ok {
			return c.fail(qp+".kpi", "unknown KPI %q%s; expected a KPI id from METRICS.md", qq.KPI, didYouMean(qq.KPI, catalog.Default().KPIIDs()))
		}
		if seen[qq.KPI] {
			return c.fail(qp+".kpi", "KPI %s is queried twice in this source; expected one query per KPI", qq.KPI)
		}
		seen[qq.KPI] = true
		if strings.TrimSpace(qq.Query) == "" {
			return c.fail(qp+".query", "expected a PromQL expression")
		}
		expr, err := parser.ParseExpr(qq.Query)
		if err != nil {
			return c.fail(qp+".query", "expected a valid PromQL expression: %v", err)
		}
		switch expr.Type() {
		case parser.ValueTypeVector, parser.ValueTypeScalar:
		case parser.ValueTypeMatrix:
			return c.fail(qp+".query", "expected an expression returning an instant vector or a scalar, got a range vector (wrap it in a function, e.g. avg_over_time(probe_success[30d]))")
		default:
			return c.fail(qp+".query", "expected an expression returning an instant vector or a scalar, got a %s", expr.Type())
		}
		for _, l := range []struct{ field, name string }{{"team_label", qq.TeamLabel}, {"service_label", qq.ServiceLabel}} {
			if l.name != "" && !model.LabelName(l.name).IsValidLegacy() {
				return c.fail(qp+"."+l.field, "expected a Prometheus label name (letters, digits and '_', not starting with a digit), got %q", l.name)
			}
		}
	}
	return nil
}

func (m *Manual) validate(c *Config, checkName func(p, name, kind string) error) error {
	if err := checkName("manual", "manual", "manual"); err != nil {
		return err
	}
	if m.File == "" {
		return c.fail("manual.file", "expected the path of the measurements file, e.g. file: measurements.yaml")
	}
	if _, err := os.Stat(c.Path(m.File)); err != nil {
		return c.fail("manual.file", "expected a readable measurements file; %s does not exist", c.Path(m.File))
	}
	if m.Validity == 0 {
		m.Validity = DefaultManualValidity
	}
	if m.Interval == 0 {
		m.Interval = Duration(time.Minute)
	}
	return nil
}
