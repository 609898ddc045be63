// Package e2e is the end-to-end test harness: it runs the real exporter on the demo organization and the
// real Prometheus and Alertmanager binaries (Debian packages) on loopback ports, and offers query
// helpers. Tests that use it fail with a clear message when a binary is missing (.ci/run installs them).
package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/demo"
	"github.com/ztmm/ztmm/internal/exporter"
)

// Binary returns the path of a Debian-packaged tool, or fails the test saying how to get it.
func Binary(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if p := filepath.Join("/usr/bin", n); fileExists(p) {
			return p
		}
	}
	t.Fatalf("%s not found: install the Debian packages prometheus and prometheus-alertmanager (bash .ci/run does)", strings.Join(names, " or "))
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// DemoExporter is the real exporter running in-process on the demo organization.
type DemoExporter struct {
	URL      string // http://127.0.0.1:PORT
	Address  string // 127.0.0.1:PORT, for scrape configs
	Exporter *exporter.Exporter
	Registry *prometheus.Registry
	Demo     *demo.Demo
}

// StartDemoExporter starts the demo organization and the exporter on it, waits for the first sync of
// every source, and serves /metrics on a loopback port until the test ends.
func StartDemoExporter(t testing.TB) *DemoExporter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := demo.Start(ctx, demo.Options{Seed: 1, Dir: t.TempDir()})
	if err != nil {
		cancel()
		t.Fatalf("demo: %v", err)
	}
	load := func() (*config.Config, error) { return config.Load(d.ConfigFile) }
	cfg, err := load()
	if err != nil {
		cancel()
		d.Close()
		t.Fatalf("demo config: %v", err)
	}
	reg := exporter.NewRegistry(true)
	exp := exporter.New(reg, exporter.Options{Load: load})
	if err := exp.Apply(cfg); err != nil {
		cancel()
		d.Close()
		t.Fatalf("apply demo config: %v", err)
	}
	exp.SyncOnce(ctx)
	done := make(chan struct{})
	go func() { defer close(done); exp.Run(ctx) }()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		d.Close()
	})
	return &DemoExporter{URL: srv.URL, Address: strings.TrimPrefix(srv.URL, "http://"), Exporter: exp, Registry: reg, Demo: d}
}

// PrometheusOptions configure a Prometheus server.
type PrometheusOptions struct {
	Targets            []string // host:port of exporters to scrape (job "ztmm")
	RuleFiles          []string
	ScrapeInterval     time.Duration // default 1s
	EvaluationInterval time.Duration // default 1s
	AlertmanagerURL    string        // http://host:port, optional
}

// Prometheus is a running Prometheus server.
type Prometheus struct {
	URL string
	API v1.API
	Dir string
}

// StartPrometheus starts the real Prometheus on a free loopback port and waits until it is ready.
func StartPrometheus(t testing.TB, o PrometheusOptions) *Prometheus {
	t.Helper()
	bin := Binary(t, "prometheus")
	if o.ScrapeInterval == 0 {
		o.ScrapeInterval = time.Second
	}
	if o.EvaluationInterval == 0 {
		o.EvaluationInterval = time.Second
	}
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", model.Duration(o.ScrapeInterval), model.Duration(o.EvaluationInterval))
	if len(o.RuleFiles) > 0 {
		b.WriteString("rule_files:\n")
		for _, f := range o.RuleFiles {
			abs, _ := filepath.Abs(f)
			fmt.Fprintf(&b, "  - %q\n", abs)
		}
	}
	if o.AlertmanagerURL != "" {
		host := strings.TrimPrefix(strings.TrimPrefix(o.AlertmanagerURL, "http://"), "https://")
		fmt.Fprintf(&b, "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [%q]\n", strings.TrimSuffix(host, "/"))
	}
	b.WriteString("scrape_configs:\n  - job_name: ztmm\n    static_configs:\n      - targets: [")
	for i, tg := range o.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", tg)
	}
	b.WriteString("]\n")
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	p := start(t, bin, "prometheus",
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-lifecycle",
		"--log.level=warn",
	)
	url := "http://" + addr
	waitReady(t, url+"/-/ready", p)
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	return &Prometheus{URL: url, API: v1.NewAPI(client), Dir: dir}
}

// Query runs an instant query now.
func (p *Prometheus) Query(ctx context.Context, expr string) (model.Vector, error) {
	v, _, _, err := p.API.Query(ctx, expr, time.Now())
	if err != nil {
		return nil, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		if s, ok := v.(*model.Scalar); ok {
			return model.Vector{{Value: s.Value, Timestamp: s.Timestamp}}, nil
		}
		return nil, fmt.Errorf("query %q returned %s, want a vector", expr, v.Type())
	}
	return vec, nil
}

// WaitForQuery polls expr until it returns at least one sample or timeout passes, and returns the last
// result. It fails the test on timeout, with the expression in the message.
func (p *Prometheus) WaitForQuery(t testing.TB, expr string, timeout time.Duration) model.Vector {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := p.Query(ctx, expr)
		cancel()
		if err == nil && len(v) > 0 {
			return v
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Fatalf("no result for %q within %s (last error: %v)", expr, timeout, lastErr)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	URL string
}

// StartAlertmanager starts the real Alertmanager with configYAML on a free loopback port.
func StartAlertmanager(t testing.TB, configYAML string) *Alertmanager {
	t.Helper()
	bin := Binary(t, "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	p := start(t, bin, "alertmanager",
		"--config.file="+cfgPath,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=", // no gossip: a single instance on loopback only
		"--log.level=warn",
	)
	url := "http://" + addr
	waitReady(t, url+"/-/ready", p)
	return &Alertmanager{URL: url}
}

type proc struct {
	cmd  *exec.Cmd
	out  *Output
	done chan struct{}
}

func start(t testing.TB, bin, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out := &Output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return p
}

func waitReady(t testing.TB, url string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready:\n%s", p.cmd.Path, p.out.String())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 60s:\n%s", url, p.out.String())
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
