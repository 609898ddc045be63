package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sentinel = "SENTINEL-7f3a9c-DO-NOT-LEAK"

// sentinelDir writes a token file holding the sentinel next to the configurations of the test and sets
// the sentinel in the environment, so both ways a secret enters the config carry it.
func sentinelDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(sentinel+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ZTMM_SENTINEL", sentinel)
	return dir
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "ztmm.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretNeverLeaks(t *testing.T) {
	dir := sentinelDir(t)
	c, err := Load(writeConfig(t, dir, `organization: Acme
since: 2025-11-01
github:
  - token: ${ZTMM_SENTINEL}
    organizations: [acme]
  - name: ghes
    base_url: https://github.example.com/api/v3/
    app: {app_id: 1, installation_id: 2, private_key_file: token}
    organizations: [acme]
gitlab:
  - token_file: token
    groups: [platform]
promql:
  - url: https://prometheus.example.com/
    bearer_token: ${ZTMM_SENTINEL}
    queries: [{kpi: application_availability, query: 'avg_over_time(probe_success[30d])'}]
`))
	if err != nil {
		t.Fatal(err)
	}
	// The secrets must have been read, or the checks below prove nothing.
	for name, s := range map[string]Secret{"env": c.GitHub[0].Token, "file": c.GitLab[0].Token, "app key": c.GitHub[1].App.PrivateKey, "bearer": c.PromQL[0].Token} {
		if s.Value() != sentinel {
			t.Fatalf("%s secret = %q, want the sentinel", name, s.Value())
		}
	}

	dump, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	jsonConfig, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	tok := c.GitHub[0].Token
	outputs := map[string]string{
		"Dump":              string(dump),
		"json.Marshal":      string(jsonConfig),
		"%v config":         fmt.Sprintf("%v", c),
		"%+v config":        fmt.Sprintf("%+v", c),
		"%#v config":        fmt.Sprintf("%#v", c),
		"%v config value":   fmt.Sprintf("%v", *c),
		"%+v github":        fmt.Sprintf("%+v", c.GitHub),
		"%#v github":        fmt.Sprintf("%#v", c.GitHub[0]),
		"%+v app":           fmt.Sprintf("%+v", *c.GitHub[1].App),
		"%v secret":         fmt.Sprintf("%v", tok),
		"%s secret":         fmt.Sprintf("%s", tok),
		"%q secret":         fmt.Sprintf("%q", tok),
		"%+v secret":        fmt.Sprintf("%+v", tok),
		"%#v secret":        fmt.Sprintf("%#v", tok),
		"%x secret":         fmt.Sprintf("%x", tok),
		"%v secret pointer": fmt.Sprintf("%v", &tok),
		"Println secret":    fmt.Sprintln(tok),
	}
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	} {
		var b bytes.Buffer
		log := slog.New(h.new(&b))
		log.Info("loaded", "config", c)
		log.Info("loaded", "config", *c)
		log.Info("source", "github", c.GitHub[0], "gitlab", &c.GitLab[0], "promql", c.PromQL)
		log.Info("secret", "token", tok, "pointer", &tok, slog.Any("any", tok), slog.Group("g", "token", c.GitLab[0].Token))
		log.With("token", tok).Info("with")
		outputs["slog "+h.name] = b.String()
	}
	for name, out := range outputs {
		if strings.Contains(out, sentinel) || strings.Contains(out, fmt.Sprintf("%x", sentinel)) {
			t.Errorf("%s reveals the secret:\n%s", name, out)
		}
	}
	// Redacted, not silently dropped: a reader of the dump or log must see that a credential is set.
	for _, name := range []string{"Dump", "%v secret", "%#v secret", "slog json", "slog text", "json.Marshal"} {
		if !strings.Contains(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(outputs[name]), "<secret>") {
			t.Errorf("%s does not show a redacted secret:\n%s", name, outputs[name])
		}
	}
	if got := (Secret{}).String(); got != "" {
		t.Errorf("unset secret formats as %q, want empty", got)
	}
}

// TestSecretNeverInErrors makes the mistakes that put a secret where an error message could echo it.
func TestSecretNeverInErrors(t *testing.T) {
	const head = "organization: Acme\nsince: 2025-11-01\n"
	for _, tc := range []struct {
		name, body string
		want       string // a part of the message that shows the right rule fired
	}{
		{"literal token", "github:\n  - token: " + sentinel + "\n    organizations: [acme]\n", "expected a ${ENV_VAR} reference"},
		{"quoted literal token", "github:\n  - token: \"" + sentinel + "\"\n    organizations: [acme]\n", "expected a ${ENV_VAR} reference"},
		{"literal bearer token", "promql:\n  - url: https://p.example.com/\n    bearer_token: " + sentinel + "\n", "expected a ${ENV_VAR} reference"},
		{"token in token_file", "gitlab:\n  - token_file: " + sentinel + "\n    groups: [platform]\n", "looks like the token itself"},
		{"password in URL", "gitlab:\n  - base_url: https://oauth2:" + sentinel + "@gitlab.example.com/\n    token_file: token\n    groups: [platform]\n", "without credentials"},
		{"password in URL without scheme", "promql:\n  - url: admin:" + sentinel + "@prometheus:9090\n", "<redacted>@prometheus:9090"},
		{"password in URL with bad scheme", "promql:\n  - url: ftp://admin:" + sentinel + "@prometheus:9090/\n", "<redacted>@prometheus:9090/"},
		{"misspelled token key", "github:\n  - tokne: " + sentinel + "\n", `did you mean "token"`},
		{"token as a list", "github:\n  - token: [" + sentinel + "]\n", "expected a single value, got a list"},
		{"token as a mapping", "github:\n  - token: {value: " + sentinel + "}\n", "expected a single value, got a mapping"},
		{"env and file", "github:\n  - token: ${ZTMM_SENTINEL}\n    token_file: token\n    organizations: [acme]\n", "not both"},
		{"env secret, later mistake", "github:\n  - token: ${ZTMM_SENTINEL}\n", "expected organizations or repositories"},
		{"file secret, later mistake", "gitlab:\n  - token_file: token\n    groups: [platform]\n    interval: 1m\n    timeout: 2m\n", "no longer than the interval"},
		{"YAML syntax error on the secret's line", "github:\n  - token: \"" + sentinel + "\\q\"\n", "invalid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := sentinelDir(t)
			_, err := Load(writeConfig(t, dir, head+tc.body))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, sentinel) {
				t.Errorf("error reveals the secret: %s", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
		})
	}
}
