package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the '# want:' line of testdata/config/invalid-*.yml with the current message")

const testdataDir = "../../testdata/config"

// testEnv sets the environment the fixtures refer to: one variable set, one certainly unset.
func testEnv(t *testing.T) {
	t.Helper()
	t.Setenv("ZTMM_TEST_GITHUB_TOKEN", "env-token-not-a-real-secret")
	t.Setenv("ZTMM_TEST_UNSET_TOKEN", "")
	os.Unsetenv("ZTMM_TEST_UNSET_TOKEN")
}

// wantPlaceholders makes the expected messages independent of where the repository is checked out.
func wantPlaceholders(t *testing.T, path string) *strings.Replacer {
	t.Helper()
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(path, "{file}", abs, "{dir}")
}

// TestInvalidConfigs loads every testdata/config/invalid-*.yml and checks its exact error, written on the
// file's first line as "# want: <message>", where {file} is the file's path and {dir} its directory.
func TestInvalidConfigs(t *testing.T) {
	testEnv(t)
	files, err := filepath.Glob(filepath.Join(testdataDir, "invalid-*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("found %d invalid-*.yml fixtures, want at least 15", len(files))
	}
	seen := map[string]string{}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yml"), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, rest, _ := strings.Cut(string(b), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line %q, want \"# want: <message>\"", first)
			}
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded (organization %q), want error %q", c.Organization, want)
			}
			got := wantPlaceholders(t, path).Replace(err.Error())
			if *update {
				if err := os.WriteFile(path, []byte("# want: "+got+"\n"+rest), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("error:\n got: %s\nwant: %s", got, want)
			}
			if !strings.HasPrefix(got, "{file}") {
				t.Errorf("error %q does not start with the file's path", got)
			}
			seen[got] = path
		})
	}
	if len(seen) < 15 && !*update {
		t.Errorf("%d distinct messages, want at least 15 distinct mistakes", len(seen))
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ztmm.yml")
	_, err := Load(path)
	if want := path + ": expected a configuration file; it does not exist"; err == nil || err.Error() != want {
		t.Fatalf("Load = %v, want %s", err, want)
	}
}

// TestParseBehaviour covers what valid files may do beyond the fixtures: YAML features, empty values,
// and the values validation derives.
func TestParseBehaviour(t *testing.T) {
	const head = "organization: Acme\nsince: 2025-11-01\n"
	gh := func(extra string) string {
		return head + "github:\n  - token: ${ZTMM_TEST_GITHUB_TOKEN}\n    organizations: [acme]\n" + extra
	}
	for _, tc := range []struct {
		name, body string
		check      func(t *testing.T, c *Config)
	}{
		{"trailing document separator", head + "---\n", func(t *testing.T, c *Config) {
			if c.Organization != "Acme" {
				t.Errorf("organization = %q", c.Organization)
			}
		}},
		{"empty value keeps the default", head + "window:\nattribution_window: ~\n", func(t *testing.T, c *Config) {
			if c.Window != DefaultWindow || c.AttributionWindow != DefaultAttributionWindow {
				t.Errorf("window, attribution = %s, %s, want the defaults", c.Window, c.AttributionWindow)
			}
			if !c.Has("window") {
				t.Error("Has(window) = false for a key written without a value")
			}
		}},
		{"anchors and aliases", head + `github:
  - token: ${ZTMM_TEST_GITHUB_TOKEN}
    organizations: [acme]
    release_policy: &policy {required_approvals: 2, require_status_checks: false}
gitlab:
  - token: ${ZTMM_TEST_GITHUB_TOKEN}
    groups: [platform]
    release_policy: *policy
`, func(t *testing.T, c *Config) {
			p := c.GitLab[0].ReleasePolicy
			if *p.RequiredApprovals != 2 || *p.RequireStatusChecks || !*p.RequirePullRequest {
				t.Errorf("aliased policy = %d approvals, status checks %v, pull request %v", *p.RequiredApprovals, *p.RequireStatusChecks, *p.RequirePullRequest)
			}
		}},
		{"base URL gets its trailing slash", head + `github:
  - base_url: https://github.example.com/api/v3
    token: ${ZTMM_TEST_GITHUB_TOKEN}
    organizations: [acme]
`, func(t *testing.T, c *Config) {
			if got := c.GitHub[0].BaseURL; got != "https://github.example.com/api/v3/" {
				t.Errorf("base URL = %q", got)
			}
		}},
		{"timeout defaults to the interval when shorter than 5m", gh("    interval: 2m\n"), func(t *testing.T, c *Config) {
			if got := c.GitHub[0].Timeout.D(); got != 2*time.Minute {
				t.Errorf("timeout = %s, want 2m", got)
			}
		}},
		{"timeout defaults to 5m for long intervals", gh("    interval: 1h\n"), func(t *testing.T, c *Config) {
			if got := c.GitHub[0].Timeout.D(); got != 5*time.Minute {
				t.Errorf("timeout = %s, want 5m", got)
			}
		}},
		{"zero approvals allowed", gh("    release_policy: {required_approvals: 0}\n"), func(t *testing.T, c *Config) {
			if got := *c.GitHub[0].ReleasePolicy.RequiredApprovals; got != 0 {
				t.Errorf("approvals = %d, want 0 (an explicit 0 is not the default 1)", got)
			}
		}},
		{"gitlab defaults", head + "gitlab:\n  - token: ${ZTMM_TEST_GITHUB_TOKEN}\n    projects: [platform/sub/api]\n", func(t *testing.T, c *Config) {
			g := c.GitLab[0]
			if g.Name != "gitlab" || g.BaseURL != "https://gitlab.com/" || !*g.DORAAPI || g.ProductionEnvironments.String() != DefaultProductionEnvironments || g.Interval.D() != 5*time.Minute {
				t.Errorf("gitlab = name %q, base %q, dora %v, production %q, interval %s", g.Name, g.BaseURL, *g.DORAAPI, g.ProductionEnvironments, g.Interval)
			}
		}},
		{"manual and assessment defaults", head + "manual: {file: measurements.yml}\nassessment: {file: assessment.yml}\n", func(t *testing.T, c *Config) {
			if c.Manual.Validity != DefaultManualValidity || c.Manual.Interval.D() != time.Minute || c.Assessment.Validity != DefaultAttestValidity {
				t.Errorf("manual validity %s interval %s, assessment validity %s", c.Manual.Validity, c.Manual.Interval, c.Assessment.Validity)
			}
		}},
		{"ratio target as fraction equals percentage", head + "targets:\n  endpoint_compliance_rate: {value: 0.995}\n  mfa_coverage: {value: 99.5%}\n", func(t *testing.T, c *Config) {
			_, a := c.Target(kpi(t, "endpoint_compliance_rate"))
			_, b := c.Target(kpi(t, "mfa_coverage"))
			if a != 0.995 || b != 0.995 {
				t.Errorf("targets = %v, %v, want 0.995", a, b)
			}
		}},
		{"an existing file named like a token is a path", head + "github:\n  - token_file: ghp_a_file_named_like_a_token\n    organizations: [acme]\n", func(t *testing.T, c *Config) {
			if got := c.GitHub[0].Token.Value(); got != "{}" {
				t.Errorf("token = %q, want the file's content", got)
			}
		}},
		{"first mistake in the file is reported", head + "targets:\n  zzz_unknown: {value: 1}\n  aaa_unknown: {value: 1}\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testEnv(t)
			dir := t.TempDir()
			for _, f := range []string{"measurements.yml", "assessment.yml", "ghp_a_file_named_like_a_token"} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("{}\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Parse([]byte(tc.body), filepath.Join(dir, "ztmm.yml"))
			if tc.check == nil {
				// Map keys are validated in file order, so the same mistake is reported on every run.
				if err == nil || !strings.Contains(err.Error(), "targets.zzz_unknown") {
					t.Fatalf("error = %v, want the first unknown KPI, targets.zzz_unknown", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestDump(t *testing.T) {
	c := loadValid(t, "valid-full.yml")
	b, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	dump := string(b)
	// The dump is the effective configuration in config syntax: values as written, defaults filled in.
	for _, want := range []string{
		"window: 30d\n",
		"since: \"2025-11-01\"\n",
		"attribution_window: 3d\n",
		"value: 2h\n",
		"value: 10%\n",
		"value: 0.5\n",
		"mean_time_to_recovery:\n        window: 90d\n",
		"token: <secret>\n",
		"bearer_token: <secret>\n",
		"token_file: secrets/github-token\n",
		"production_environments: (?i)^(prod|production|live)$\n",
		"condition: < 0.5\n",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
	for _, secret := range []string{"test-token-not-a-real-secret", "gitlab-env-token-not-a-real-secret", "thanos-env-token-not-a-real-secret", "test-prometheus-token-not-a-real-secret", "not a real private key"} {
		if strings.Contains(dump, secret) {
			t.Errorf("dump reveals %q", secret)
		}
	}
}
