package exporter

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ztmm/ztmm/internal/config"
)

const sentinel = "SENTINEL-7f3a9c-DO-NOT-LEAK"

// TestSecretNeverLeaks runs a source whose upstream rejects and then garbles its answers, with the token
// from the environment and debug logging on, and checks that the token appears in no log line, metric or
// error — only in the Authorization header the upstream receives.
func TestSecretNeverLeaks(t *testing.T) {
	t.Setenv("ZTMM_TEST_TOKEN", sentinel)
	var sawAuth bool
	fail := true
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth = r.Header.Get("Authorization") == "Bearer "+sentinel
		if fail {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1.`)
	}))
	defer up.Close()
	path := writeConfig(t, fmt.Sprintf(`organization: Acme
promql:
  - name: idp
    url: %s/
    bearer_token: ${ZTMM_TEST_TOKEN}
    queries: [{kpi: identity_verification_time, query: 'probe'}]
`, up.URL))
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	load := func() (*config.Config, error) { return config.Load(path) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("loaded", "config", cfg, "token", cfg.PromQL[0].Token)
	reg := prometheus.NewRegistry()
	exp := New(reg, Options{Load: load, Logger: logger})
	if err := exp.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	exp.SyncOnce(context.Background())
	fail = false
	exp.SyncOnce(context.Background()) // malformed body this time
	if !sawAuth {
		t.Fatal("the upstream never received the token: the test would prove nothing")
	}
	if got, _ := gauge(t, reg, "ztmm_collector_up", map[string]string{"collector": "idp"}); got != 0 {
		t.Errorf("collector up = %v with a failing upstream, want 0", got)
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var expo bytes.Buffer
	enc := expfmt.NewEncoder(&expo, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		enc.Encode(mf)
	}
	dump, _ := cfg.Dump()
	for where, text := range map[string]string{
		"logs":    logs.String(),
		"metrics": expo.String(),
		"dump":    string(dump),
		"fmt %+v": fmt.Sprintf("%+v %#v", *cfg, cfg.PromQL[0]),
	} {
		if strings.Contains(text, sentinel) {
			t.Errorf("the secret leaked into %s", where)
		}
	}
	if !strings.Contains(logs.String(), "sync failed") {
		t.Errorf("the failing sync was not logged, so the log check proves little:\n%s", logs.String())
	}
}
