package config

import (
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

const day = 24 * time.Hour

func loadValid(t *testing.T, name string) *Config {
	t.Helper()
	t.Setenv("GITLAB_TOKEN", "gitlab-env-token-not-a-real-secret")
	t.Setenv("THANOS_TOKEN", "thanos-env-token-not-a-real-secret")
	c, err := Load(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return c
}

func kpi(t *testing.T, id string) catalog.KPI {
	t.Helper()
	k, ok := catalog.Default().KPI(id)
	if !ok {
		t.Fatalf("catalog has no KPI %s", id)
	}
	return k
}

func TestMinimalDefaults(t *testing.T) {
	c := loadValid(t, "valid-minimal.yml")
	g := c.GitHub[0]
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"organization", c.Organization, "Acme"},
		{"since", c.Since.Time, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"window", c.Window.D(), 30 * day},
		{"attribution window", c.AttributionWindow.D(), 7 * day},
		{"github name", g.Name, "github"},
		{"github base URL", g.BaseURL, "https://api.github.com/"},
		{"token from file", g.Token.Value(), "test-token-not-a-real-secret"},
		{"production pattern", g.ProductionEnvironments.String(), DefaultProductionEnvironments},
		{"scan pattern", g.ScanJobs.String(), DefaultScanJobs},
		{"incident labels", g.Incidents.Labels, []string{"incident"}},
		{"service label prefix", g.Incidents.ServiceLabelPrefix, "service:"},
		{"pillar label prefix", g.Incidents.PillarLabelPrefix, "pillar:"},
		{"security label", g.Incidents.SecurityLabel, "security"},
		{"privileged access labels", g.AccessRequests.PrivilegedLabels, []string{"access-request:privileged"}},
		{"data access labels", g.AccessRequests.DataLabels, []string{"access-request:data"}},
		{"require pull request", *g.ReleasePolicy.RequirePullRequest, true},
		{"required approvals", *g.ReleasePolicy.RequiredApprovals, 1},
		{"require status checks", *g.ReleasePolicy.RequireStatusChecks, true},
		{"block force pushes", *g.ReleasePolicy.BlockForcePushes, true},
		{"concurrency", g.Concurrency, 4},
		{"interval", g.Interval.D(), 5 * time.Minute},
		{"timeout", g.Timeout.D(), 5 * time.Minute},
		{"lead time target", fmtTarget(c.Target(kpi(t, "lead_time_for_changes"))), "< 3600"},
		{"lead time window", c.WindowOf("lead_time_for_changes"), 30 * day},
		{"unowned service", c.TeamOf("acme/checkout"), ""},
		{"sources", c.SourceNames(), []string{"github"}},
		{"no manual", c.Manual, (*Manual)(nil)},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	// The production pattern must match what SPEC section 3 calls production, and nothing more.
	for env, want := range map[string]bool{"prod": true, "Production": true, "PROD": true, "staging": false, "prod-eu": false, "preprod": false} {
		if got := g.ProductionEnvironments.MatchString(env); got != want {
			t.Errorf("production pattern matches %q = %v, want %v", env, got, want)
		}
	}
	for job, want := range map[string]bool{"CodeQL analyze": true, "trivy-image": true, "secret_detection": true, "Dependency Scanning": true, "unit-tests": false, "build": false} {
		if got := g.ScanJobs.MatchString(job); got != want {
			t.Errorf("scan pattern matches %q = %v, want %v", job, got, want)
		}
	}
}

func fmtTarget(op catalog.Op, v float64) string {
	return string(op) + " " + strconv.FormatFloat(v, 'g', -1, 64)
}

func TestFullOverrides(t *testing.T) {
	c := loadValid(t, "valid-full.yml")

	targets := []struct {
		kpi    string
		target string
		window time.Duration
	}{
		{"lead_time_for_changes", "< 7200", 30 * day},       // op and duration value overridden
		{"change_failure_rate", "< 0.1", 30 * day},          // percentage, op kept from the document
		{"deployment_frequency", "> 0.5", 7 * day},          // number and own window
		{"mean_time_to_recovery", "< 900", 90 * day},        // window only: the document's target stays
		{"automation_success_rate", "> 0.99", 30 * day},     // not overridden
		{"identity_incident_reduction", ">= 0.9", 30 * day}, // baseline does not change the target
	}
	for _, tc := range targets {
		if got := fmtTarget(c.Target(kpi(t, tc.kpi))); got != tc.target {
			t.Errorf("Target(%s) = %s, want %s", tc.kpi, got, tc.target)
		}
		if got := c.WindowOf(tc.kpi); got != tc.window {
			t.Errorf("WindowOf(%s) = %s, want %s", tc.kpi, got, tc.window)
		}
	}

	// First matching team wins: payments' patterns come before platform's catch-all acme/*.
	for service, team := range map[string]string{
		"acme/checkout":      "payments",
		"acme/pay-gateway":   "payments",
		"acme/idp":           "platform",
		"platform/runners":   "platform",
		"acme/pay/nested":    "",
		"globex/checkout":    "",
		"acme/checkout-next": "platform",
	} {
		if got := c.TeamOf(service); got != team {
			t.Errorf("TeamOf(%q) = %q, want %q", service, got, team)
		}
	}
	if got, want := c.TeamNames(), []string{"payments", "platform"}; !slices.Equal(got, want) {
		t.Errorf("TeamNames() = %v, want %v", got, want)
	}

	gh, ghes, gl := c.GitHub[0], c.GitHub[1], c.GitLab[0]
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"attribution window", c.AttributionWindow.D(), 3 * day},
		{"baseline", c.Baselines["application_incident_reduction"], 12.5},
		{"roadmap level", c.Roadmap["service_release"].Level, 4},
		{"roadmap due", c.Roadmap["identities"].Due.Time, time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)},
		{"github token from file", gh.Token.Value(), "test-token-not-a-real-secret"},
		{"github approvals", *gh.ReleasePolicy.RequiredApprovals, 2},
		{"github interval", gh.Interval.D(), 10 * time.Minute},
		{"github timeout", gh.Timeout.D(), 4 * time.Minute},
		{"github incident labels", gh.Incidents.Labels, []string{"incident", "sev1"}},
		{"github include", gh.Include.Match("acme/checkout"), true},
		{"github exclude", gh.Exclude.Match("acme/sandbox-1"), true},
		{"github production", gh.ProductionEnvironments.MatchString("live"), true},
		{"ghes base URL keeps its path", ghes.BaseURL, "https://github.acme.internal/api/v3/"},
		{"ghes app key read", ghes.App.PrivateKey.Value(), "test fixture, not a real private key"},
		{"ghes has no token", ghes.Token.IsSet(), false},
		{"ghes defaults", ghes.Incidents.Labels, []string{"incident"}},
		{"gitlab token from env", gl.Token.Value(), "gitlab-env-token-not-a-real-secret"},
		{"gitlab dora api off", *gl.DORAAPI, false},
		{"gitlab status checks off", *gl.ReleasePolicy.RequireStatusChecks, false},
		{"gitlab pillar prefix", gl.Incidents.PillarLabelPrefix, "pillar::"},
		{"promql token from file", c.PromQL[0].Token.Value(), "test-prometheus-token-not-a-real-secret"},
		{"promql token from env", c.PromQL[1].Token.Value(), "thanos-env-token-not-a-real-secret"},
		{"promql default interval", c.PromQL[1].Interval.D(), time.Minute},
		{"promql default timeout", c.PromQL[1].Timeout.D(), time.Minute},
		{"promql labels", c.PromQL[0].Queries[0].ServiceLabel, "service"},
		{"manual validity", c.Manual.Validity.D(), 35 * day},
		{"manual path is relative to the config file", c.Path(c.Manual.File), filepath.Join(c.Dir, "measurements.yml")},
		{"assessment validity", c.Assessment.Validity.D(), 90 * day},
		{"maturity rules", len(c.Maturity.Rules), 3},
		{"sources", c.SourceNames(), []string{"ghes", "github", "gitlab", "manual", "prometheus", "thanos"}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

// TestFullExampleIsComplete keeps valid-full.yml, the documented example, in step with the Config type:
// every field a user can write must appear in it.
func TestFullExampleIsComplete(t *testing.T) {
	c := loadValid(t, "valid-full.yml")
	// Alternatives that cannot both be written in one entry; the example shows them as comments.
	shownAsComment := map[string]bool{"github[].token": true, "gitlab[].token_file": true}
	var written []string
	for p := range c.lines {
		written = append(written, p)
	}
	for _, field := range yamlFields(reflect.TypeFor[Config](), "") {
		if shownAsComment[field] {
			continue
		}
		re := regexp.MustCompile("^" + strings.NewReplacer(`\[\]`, `\[\d+\]`, `\*`, `[^.\[]+`).Replace(regexp.QuoteMeta(field)) + "$")
		if !slices.ContainsFunc(written, re.MatchString) {
			t.Errorf("%s is not in testdata/config/valid-full.yml; add it with a comment saying what it does", field)
		}
	}
}

// yamlFields lists the paths a user can write, with [] for list indexes and * for mapping keys.
func yamlFields(t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case reflect.PointerTo(t).Implements(nodeDecoderType):
		return nil
	case t.Kind() == reflect.Slice:
		return yamlFields(t.Elem(), path+"[]")
	case t.Kind() == reflect.Map:
		return yamlFields(t.Elem(), join(path, "*"))
	case t.Kind() != reflect.Struct:
		return nil
	}
	var out []string
	for name, i := range structFields(t) {
		p := join(path, name)
		out = append(out, p)
		out = append(out, yamlFields(t.Field(i).Type, p)...)
	}
	slices.Sort(out)
	return out
}
