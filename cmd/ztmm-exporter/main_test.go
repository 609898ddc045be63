package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(good, []byte("organization: Acme\n"), 0o644)
	os.WriteFile(bad, []byte("organization: Acme\nwindow: thirty days\n"), 0o644)
	for _, tc := range []struct {
		file     string
		wantCode int
		wantOut  string
	}{
		{good, 0, "configuration is valid"},
		{bad, 1, "bad.yml:2: window: expected a positive duration like 30d, 2h or 15m, got \"thirty days\""},
		{filepath.Join(dir, "missing.yml"), 1, "missing.yml: expected a configuration file; it does not exist"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"--config.file=" + tc.file, "--config.check"}, &stdout, &stderr)
		if code != tc.wantCode {
			t.Errorf("%s: exit %d, want %d (stderr %s)", tc.file, code, tc.wantCode, stderr.String())
		}
		if out := stdout.String() + stderr.String(); !strings.Contains(out, tc.wantOut) {
			t.Errorf("%s: output %q does not contain %q", tc.file, out, tc.wantOut)
		}
	}
}

func TestBadConfigFailsBeforeAnythingRuns(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ztmm.yml")
	os.WriteFile(bad, []byte("organization: Acme\nteams: {payments: x}\n"), 0o644)
	var stdout, stderr bytes.Buffer
	// A listen address that cannot be bound proves the exporter never got as far as serving.
	code := run(context.Background(), []string{"--config.file=" + bad, "--web.listen-address=256.0.0.1:1"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], bad+":2: teams: expected a list") {
		t.Errorf("want exactly one clear message naming file, line and field; got:\n%s", stderr.String())
	}
}

func TestAssessmentTemplate(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--assessment.template"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"identities.l2.mfa", "service_release.l5.seamless_continuous_deployment", "Multi-factor authentication implemented"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("template lacks %q", want)
		}
	}
}
