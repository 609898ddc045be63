// Command ztmm-exporter is the ztmm Prometheus exporter: it measures an organization against the Zero
// Trust Maturity Model for Automated Service Releases and exposes every KPI against its target.
// With --demo it runs on a simulated organization on loopback: no credentials, no network.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/demo"
	"github.com/ztmm/ztmm/internal/exporter"
	"github.com/ztmm/ztmm/internal/maturity"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("ztmm-exporter", "Zero Trust maturity and DORA exporter for Prometheus.")
	app.Writer(stderr).ErrorWriter(stderr).UsageWriter(stdout)
	configFile := app.Flag("config.file", "ztmm configuration file.").Default("ztmm.yml").String()
	configCheck := app.Flag("config.check", "Validate the configuration file and exit (0 valid, 1 invalid).").Bool()
	demoMode := app.Flag("demo", "Run on the built-in simulated organization on loopback (no credentials, no network); ignores --config.file.").Bool()
	demoSeed := app.Flag("demo.seed", "Seed of the simulated organization.").Default("1").Int64()
	assessmentTemplate := app.Flag("assessment.template", "Print a complete, commented assessment file template (every criterion of every area and level) and exit.").Bool()
	demoDir := app.Flag("demo.dir", "Directory for the demo's generated config, measurements and assessment files (a temporary one if empty).").String()
	metricsPath := app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	disableExporterMetrics := app.Flag("web.disable-exporter-metrics", "Exclude the Go runtime and process metrics of the exporter itself.").Bool()
	toolkitFlags := kingpinflag.AddFlags(app, ":9917")
	promslogConfig := &promslog.Config{}
	flag.AddFlags(app, promslogConfig)
	app.Version(version.Print("ztmm-exporter"))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *assessmentTemplate {
		stdout.Write(maturity.Template(catalog.Default()))
		return 0
	}
	promslogConfig.Writer = stderr
	logger := promslog.New(promslogConfig)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	load := func() (*config.Config, error) { return config.Load(*configFile) }
	if *demoMode {
		d, err := demo.Start(ctx, demo.Options{Seed: *demoSeed, Dir: *demoDir, Logger: logger})
		if err != nil {
			logger.Error("cannot start the demo organization", "err", err)
			return 1
		}
		defer d.Close()
		logger.Info("demo organization running on loopback", "config", d.ConfigFile)
		load = func() (*config.Config, error) { return config.Load(d.ConfigFile) }
	}

	cfg, err := load()
	if err == nil && cfg.Assessment != nil {
		// The assessment file is part of what --config.check promises: nothing runs with a broken one.
		_, err = maturity.LoadAssessment(cfg.Path(cfg.Assessment.File), time.Now())
	}
	if *configCheck {
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: configuration is valid (%d sources)\n", cfg.File, len(cfg.SourceNames()))
		return 0
	}
	if err != nil {
		// One clear message naming file, line and field, before anything runs.
		fmt.Fprintln(stderr, err)
		return 1
	}

	reg := exporter.NewRegistry(!*disableExporterMetrics)
	exp := exporter.New(reg, exporter.Options{Logger: logger, Load: load})
	if err := exp.Apply(cfg); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	exp.Reload() // records the successful first load in the reload metrics

	logger.Info("starting ztmm-exporter", "version", version.Info(), "build_context", version.BuildContext(),
		"organization", cfg.Organization, "sources", cfg.SourceNames())

	go exp.Run(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := exp.Reload(); err == nil {
					logger.Info("configuration reloaded")
				}
			}
		}
	}()

	mux := http.NewServeMux()
	mux.Handle(*metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError), Registry: reg}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Healthy\n") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Ready\n") })
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "use POST or PUT to reload", http.StatusMethodNotAllowed)
			return
		}
		if err := exp.Reload(); err != nil {
			http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "configuration reloaded\n")
	})
	if *metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "ztmm exporter",
			Description: "Zero Trust Maturity Model for Automated Service Releases: KPIs against targets, per pillar, team and service",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: *metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
			},
		})
		if err != nil {
			logger.Error("landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	srv := &http.Server{Handler: mux}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, toolkitFlags, logger) }()
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
		return shutdown(srv)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return 0
		}
		logger.Error("web server stopped", "err", err)
		return 1
	}
}

func shutdown(srv *http.Server) int {
	if err := srv.Shutdown(context.Background()); err != nil {
		return 1
	}
	return 0
}
