package exporter

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/demo"
)

var update = flag.Bool("update", false, "rewrite golden files")

// upstream is a fake Prometheus query API that can be killed (its listener closed) and revived on the
// same address, like a real upstream going away mid-run.
type upstream struct {
	t     *testing.T
	addr  string
	value atomic.Value // string
	srv   *http.Server
}

func newUpstream(t *testing.T, value string) *upstream {
	u := &upstream{t: t}
	u.value.Store(value)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = l.Addr().String()
	u.serve(l)
	t.Cleanup(func() { u.srv.Close() })
	return u
}

func (u *upstream) serve(l net.Listener) {
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,%q]}]}}`, time.Now().Unix(), u.value.Load())
	})}
	go u.srv.Serve(l)
}

func (u *upstream) kill() { u.srv.Close() }

func (u *upstream) revive() {
	l, err := net.Listen("tcp", u.addr)
	if err != nil {
		u.t.Fatalf("revive upstream on %s: %v", u.addr, err)
	}
	u.serve(l)
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ztmm.yml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue(), true
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := gauge(t, reg, name, labels)
	return v
}

// TestUpstreamKilledMidRun: killing one upstream flips only its collector_up to 0, its KPI keeps its last
// good value, the other collector is untouched, and both recover when the upstream comes back.
func TestUpstreamKilledMidRun(t *testing.T) {
	identity := newUpstream(t, "1.2")
	endpoints := newUpstream(t, "0.995")
	path := writeConfig(t, fmt.Sprintf(`organization: Acme
promql:
  - name: idp
    url: http://%s/
    queries: [{kpi: identity_verification_time, query: 'probe'}]
  - name: mdm
    url: http://%s/
    queries: [{kpi: endpoint_compliance_rate, query: 'devices'}]
`, identity.addr, endpoints.addr))
	load := func() (*config.Config, error) { return config.Load(path) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	exp := New(reg, Options{Load: load})
	if err := exp.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp.SyncOnce(ctx)

	check := func(stage string, wantIdpUp, wantMdmUp float64, wantIdentity, wantEndpoints float64) {
		t.Helper()
		for name, want := range map[string]float64{"idp": wantIdpUp, "mdm": wantMdmUp} {
			if got, ok := gauge(t, reg, "ztmm_collector_up", map[string]string{"collector": name}); !ok || got != want {
				t.Errorf("%s: ztmm_collector_up{collector=%q} = %v (present %v), want %v", stage, name, got, ok, want)
			}
		}
		for kpi, want := range map[string]float64{"identity_verification_time": wantIdentity, "endpoint_compliance_rate": wantEndpoints} {
			got, ok := gauge(t, reg, "ztmm_kpi_value", map[string]string{"kpi": kpi, "team": "", "service": ""})
			if !ok || got != want {
				t.Errorf("%s: ztmm_kpi_value{kpi=%q} = %v (present %v), want %v", stage, kpi, got, ok, want)
			}
		}
	}
	check("both up", 1, 1, 1.2, 0.995)

	identity.kill()
	endpoints.value.Store("0.996")
	exp.SyncOnce(ctx)
	check("identity upstream killed", 0, 1, 1.2, 0.996)
	if got, _ := gauge(t, reg, "ztmm_collector_consecutive_failures", map[string]string{"collector": "idp"}); got != 1 {
		t.Errorf("consecutive failures = %v, want 1", got)
	}

	identity.value.Store("1.1")
	identity.revive()
	exp.SyncOnce(ctx)
	check("identity upstream back", 1, 1, 1.1, 0.996)

	if n := counter(t, reg, "ztmm_upstream_requests_total", map[string]string{"collector": "idp", "code": "error"}); n != 1 {
		t.Errorf("requests to the dead upstream counted as code=error: %v, want 1", n)
	}
}

// TestReloadKeepsRunningConfigOnError: a broken file on reload is refused with the reload metric at 0, and
// the running configuration and its values stay.
func TestReloadKeepsRunningConfigOnError(t *testing.T) {
	up := newUpstream(t, "1.5")
	good := fmt.Sprintf("organization: Acme\npromql:\n  - name: idp\n    url: http://%s/\n    queries: [{kpi: identity_verification_time, query: 'probe'}]\n", up.addr)
	path := writeConfig(t, good)
	load := func() (*config.Config, error) { return config.Load(path) }
	reg := prometheus.NewRegistry()
	exp := New(reg, Options{Load: load})
	if err := exp.Reload(); err != nil {
		t.Fatal(err)
	}
	exp.SyncOnce(context.Background())
	if got, _ := gauge(t, reg, "ztmm_config_last_reload_successful", nil); got != 1 {
		t.Fatalf("reload successful = %v, want 1", got)
	}

	os.WriteFile(path, []byte(good+"  - nmae: typo\n"), 0o644)
	err := exp.Reload()
	if err == nil || !strings.Contains(err.Error(), "ztmm.yml:6") {
		t.Fatalf("reload of a broken file: err = %v, want a message naming ztmm.yml:6", err)
	}
	if got, _ := gauge(t, reg, "ztmm_config_last_reload_successful", nil); got != 0 {
		t.Errorf("reload successful = %v after a failed reload, want 0", got)
	}
	if got, ok := gauge(t, reg, "ztmm_kpi_value", map[string]string{"kpi": "identity_verification_time"}); !ok || got != 1.5 {
		t.Errorf("value after failed reload = %v (present %v), want the running 1.5", got, ok)
	}

	// A good reload that renames the source keeps nothing stale of the old one.
	os.WriteFile(path, []byte(strings.Replace(good, "name: idp", "name: okta-probe", 1)), 0o644)
	if err := exp.Reload(); err != nil {
		t.Fatal(err)
	}
	exp.SyncOnce(context.Background())
	if _, ok := gauge(t, reg, "ztmm_collector_up", map[string]string{"collector": "idp"}); ok {
		t.Error("collector idp still reported after it was removed by a reload")
	}
	if got, _ := gauge(t, reg, "ztmm_collector_up", map[string]string{"collector": "okta-probe"}); got != 1 {
		t.Errorf("renamed collector up = %v, want 1", got)
	}
}

// volatile are series whose values depend on the machine or the moment, not on the organization.
var volatile = regexp.MustCompile(`^(ztmm_collector_duration_seconds|ztmm_collector_last_success_timestamp_seconds|ztmm_config_last_reload_success_timestamp_seconds|ztmm_upstream_requests_total|ztmm_upstream_rate_limit_remaining)\b`)

// demoExposition runs the exporter on the demo organization at a fixed instant and returns /metrics.
func demoExposition(t *testing.T) []byte {
	t.Helper()
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Seed: 1, Dir: t.TempDir(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	load := func() (*config.Config, error) { return config.Load(d.ConfigFile) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	exp := New(reg, Options{Load: load, Now: clock})
	if err := exp.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	exp.SyncOnce(ctx)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestDemoExpositionGolden guards the demo's /metrics: families, label sets and values at a fixed instant,
// less the volatile series. Run with -update after an intended change and review the diff.
func TestDemoExpositionGolden(t *testing.T) {
	expo := demoExposition(t)
	var kept []string
	for _, line := range strings.Split(string(expo), "\n") {
		if line == "" || volatile.MatchString(line) || strings.Contains(line, "ztmm_build_info") {
			continue
		}
		kept = append(kept, line)
	}
	sort.Strings(kept)
	got := []byte(strings.Join(kept, "\n") + "\n")
	golden := filepath.Join("..", "..", "testdata", "golden", "demo-metrics.prom")
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/exporter -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("demo exposition differs from %s; run with -update and review the diff:\n%s", golden, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, a, b)
		}
	}
	return ""
}

// TestDemoExpositionPassesPromtool lints the full demo exposition with promtool check metrics.
func TestDemoExpositionPassesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the Debian package prometheus (bash .ci/run does)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(demoExposition(t))
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
