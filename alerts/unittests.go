package alerts

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

// The promtool unit-test file format (prometheus/docs/configuration/unit_testing_rules.md).
type testFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	Tests              []testGroup `yaml:"tests"`
}

type testGroup struct {
	Name        string       `yaml:"name"`
	Interval    string       `yaml:"interval"`
	InputSeries []series     `yaml:"input_series"`
	AlertTests  []alertTest  `yaml:"alert_rule_test,omitempty"`
	PromQLTests []promqlTest `yaml:"promql_expr_test,omitempty"`
}

type series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

type promqlTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   string      `yaml:"eval_time"`
	ExpSamples []expSample `yaml:"exp_samples"`
}

type expSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// exporterLabels are what a scrape adds; KPI alerts must drop them, health alerts keep them.
const exporterLabels = `job="ztmm", instance="ztmm:9867"`

// unitTests returns the promtool test files by name. Each file has one evaluation interval, so the
// prediction tests, which need a week of history, sample hourly in their own file while the others
// sample every minute.
func unitTests(cat *catalog.Catalog, o Options) (map[string]testFile, error) {
	breach, err := breachTests(cat)
	if err != nil {
		return nil, err
	}
	rules := []string{"../ztmm.rules.yml"}
	return map[string]testFile{
		"kpi.test.yml":     {RuleFiles: rules, EvaluationInterval: "1m", Tests: append(breach, noDataTests()...)},
		"predict.test.yml": {RuleFiles: rules, EvaluationInterval: "1h", Tests: []testGroup{predictTests(cat, o)}},
		"health.test.yml":  {RuleFiles: rules, EvaluationInterval: "1m", Tests: healthTests(o)},
	}, nil
}

// testScope is one team/service label pair of a test series.
type testScope struct{ team, service string }

func (s testScope) text() string {
	switch {
	case s.service != "" && s.team != "":
		return "service " + s.service + " (team " + s.team + ")"
	case s.service != "":
		return "service " + s.service
	case s.team != "":
		return "team " + s.team
	}
	return "the organization"
}

func kpiSeries(metric string, k catalog.KPI, s testScope) string {
	return fmt.Sprintf(`%s{pillar=%q, kpi=%q, team=%q, service=%q, %s}`, metric, k.Area, k.ID, s.team, s.service, exporterLabels)
}

func targetSeries(k catalog.KPI) string {
	return fmt.Sprintf(`ztmm_kpi_target{pillar=%q, kpi=%q, %s}`, k.Area, k.ID, exporterLabels)
}

func kpiLabels(k catalog.KPI, s testScope, severity string) map[string]string {
	l := map[string]string{"pillar": string(k.Area), "kpi": k.ID, "severity": severity}
	// Prometheus drops empty labels: an organization's alert has neither team nor service.
	if s.team != "" {
		l["team"] = s.team
	}
	if s.service != "" {
		l["service"] = s.service
	}
	return l
}

// constant is a series holding v for n+1 samples.
func constant(v float64, n int) string { return num(v) + "+0x" + strconv.Itoa(n) }

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// breachValues are a value that misses the KPI's catalog target and one that meets it.
func breachValues(k catalog.KPI) (missed, met float64) {
	t := k.Target
	if k.Op.LowerIsBetter() {
		if t == 0 {
			return 3, 0
		}
		return 2 * t, t / 2
	}
	return t / 2, ceiling(k, t)
}

// ceiling is a value above a higher-is-better target that the unit allows.
func ceiling(k catalog.KPI, t float64) float64 {
	switch k.Unit {
	case catalog.Ratio:
		return 1
	case catalog.Score:
		return 5
	}
	return 2 * t
}

func breachTests(cat *catalog.Catalog) ([]testGroup, error) {
	g := testGroup{Name: KpiTargetBreached + ": per KPI, one scope misses the target and one meets it", Interval: "1m"}
	met := testScope{"payments", "acme/ledger"}
	breachScopes := []testScope{{"payments", "acme/checkout"}, {"platform", ""}, {"", ""}}
	var fired []expAlert
	for i, k := range cat.KPIs() {
		p, err := PolicyFor(k)
		if err != nil {
			return nil, err
		}
		missed, ok := breachValues(k)
		bad := breachScopes[i%len(breachScopes)]
		g.InputSeries = append(g.InputSeries,
			series{targetSeries(k), constant(k.Target, 150)},
			series{kpiSeries("ztmm_kpi_value", k, bad), constant(missed, 150)},
			series{kpiSeries("ztmm_kpi_target_met", k, bad), constant(0, 150)},
			series{kpiSeries("ztmm_kpi_value", k, met), constant(ok, 150)},
			series{kpiSeries("ztmm_kpi_target_met", k, met), constant(1, 150)},
		)
		fired = append(fired, expAlert{
			ExpLabels: kpiLabels(k, bad, p.Severity),
			ExpAnnotations: map[string]string{
				"summary": fmt.Sprintf("%s misses its target for %s.", k.Name, bad.text()),
				"description": fmt.Sprintf("%s of %s is %s; the target is %s %s (%s). It has missed the target for %s.",
					k.Name, bad.text(), formatValue(k.Unit, missed), k.Op, formatValue(k.Unit, k.Target), docTarget(k), promDuration(p.For)),
				"runbook_url": RunbookURL + "#" + Anchor(breachHeading(k.Area)),
			},
		})
	}
	g.AlertTests = []alertTest{
		// Shorter than every KPI's `for`: pending, not firing.
		{EvalTime: "10m", Alertname: KpiTargetBreached},
		{EvalTime: "2h", Alertname: KpiTargetBreached, ExpAlerts: fired},
		// Nothing here is predicted: the breached scopes already miss, the met ones are flat.
		{EvalTime: "2h", Alertname: KpiTargetBreachPredicted},
	}
	return []testGroup{g}, nil
}

// predictTarget is the target a prediction test uses. Where the catalog's target sits on the unit's
// bound (at most 0 findings, 100 % compliance) no series can meet it and still get worse, so the test
// overrides the target, as a config file may.
func predictTarget(k catalog.KPI) float64 {
	switch {
	case k.Op.LowerIsBetter() && k.Target <= 0:
		return 10
	case !k.Op.LowerIsBetter() && k.Target >= ceiling(k, k.Target):
		return 0.9
	}
	return k.Target
}

func predictTests(cat *catalog.Catalog, o Options) testGroup {
	g := testGroup{Name: KpiTargetBreachPredicted + ": per KPI, a flat, an improving and a worsening series that all meet the target now", Interval: "1h"}
	const evalHours = 192 // a full prediction range of history plus a day
	rangeHours := o.PredictionRange.Hours()
	var fired []expAlert
	for _, k := range cat.KPIs() {
		p, _ := PolicyFor(k)
		t := predictTarget(k)
		// headroom between the target and the unit's bound on the good side; now sits in its middle, and the
		// worsening slope eats 0.3 headroom per range, so the horizon (two ranges) overshoots by 0.1.
		now, headroom, worse := t/2, t, 1.0
		if !k.Op.LowerIsBetter() {
			headroom = ceiling(k, t) - t
			now, worse = t+headroom/2, -1
		}
		slope := worse * 0.3 * headroom / rangeHours
		for _, sc := range []struct {
			service string
			slope   float64
		}{{"acme/flat", 0}, {"acme/improving", -slope}, {"acme/worsening", slope}} {
			s := testScope{"payments", sc.service}
			g.InputSeries = append(g.InputSeries,
				series{kpiSeries("ztmm_kpi_value", k, s), ramp(now, sc.slope, evalHours)},
				series{kpiSeries("ztmm_kpi_target_met", k, s), constant(1, evalHours)},
			)
			if sc.slope != slope {
				continue
			}
			sev := Info
			if p.Severity == Critical {
				sev = Warning
			}
			fired = append(fired, expAlert{
				ExpLabels: kpiLabels(k, s, sev),
				ExpAnnotations: map[string]string{
					"summary": fmt.Sprintf("%s is predicted to miss its target for %s within %s.", k.Name, s.text(), promDuration(o.PredictionHorizon)),
					"description": fmt.Sprintf("%s of %s is %s and meets its target %s %s, but its trend over the last %s crosses the target within %s.",
						k.Name, s.text(), formatValue(k.Unit, now), k.Op, formatValue(k.Unit, t), promDuration(o.PredictionRange), promDuration(o.PredictionHorizon)),
					"runbook_url": RunbookURL + "#" + Anchor(KpiTargetBreachPredicted),
				},
			})
		}
		g.InputSeries = append(g.InputSeries, series{targetSeries(k), constant(t, evalHours)})
	}
	g.AlertTests = []alertTest{
		{EvalTime: strconv.Itoa(evalHours) + "h", Alertname: KpiTargetBreachPredicted, ExpAlerts: fired},
		{EvalTime: strconv.Itoa(evalHours) + "h", Alertname: KpiTargetBreached},
	}
	return g
}

// ramp is a series rising by slope per sample that ends exactly at end on sample n, so the alert's
// value, and with it the description, is exact.
func ramp(end, slope float64, n int) string {
	if slope == 0 {
		return constant(end, n)
	}
	start := end - slope*float64(n)
	op := "+"
	if slope < 0 {
		op = "-"
	}
	return fmt.Sprintf("%s%s%sx%d %s", num(start), op, num(math.Abs(slope)), n-1, num(end))
}

func noDataTests() []testGroup {
	kpis := func(gone string) []series {
		return []series{
			{`ztmm_kpi_info{pillar="identities", kpi="mfa_coverage", name="MFA coverage", unit="ratio", op=">=", origin="indicator", window="30d", ` + exporterLabels + `}`, constant(1, 180)},
			// Had an organization-wide value for an hour, then its source stopped.
			{`ztmm_kpi_value{pillar="identities", kpi="mfa_coverage", team="", service="", ` + exporterLabels + `}`, "0.97+0x60 " + gone},
			// Still reported: quiet.
			{`ztmm_kpi_value{pillar="endpoints", kpi="endpoint_compliance_rate", team="", service="", ` + exporterLabels + `}`, constant(0.995, 180)},
			// Only a service series vanished (a service removed from config): not a KPI without data.
			{`ztmm_kpi_value{pillar="endpoints", kpi="endpoint_compliance_rate", team="payments", service="acme/checkout", ` + exporterLabels + `}`, "0.9+0x60 _x120"},
		}
	}
	up := kpis("_x120")
	up = append(up, series{`ztmm_build_info{version="0.1.0", revision="abc", goversion="go1.26", ` + exporterLabels + `}`, constant(1, 180)})
	return []testGroup{
		{
			Name: KpiNoData + ": a KPI stops while the exporter runs", Interval: "1m", InputSeries: up,
			AlertTests: []alertTest{
				// Gone since about 1h05m (5m staleness), pending for 30m.
				{EvalTime: "1h20m", Alertname: KpiNoData},
				{EvalTime: "2h", Alertname: KpiNoData, ExpAlerts: []expAlert{{
					ExpLabels: map[string]string{"pillar": "identities", "kpi": "mfa_coverage", "severity": Warning},
					ExpAnnotations: map[string]string{
						"summary":     "KPI mfa_coverage has stopped receiving data.",
						"description": "MFA coverage (identities) had an organization-wide value in the last 1d but has had none for 30m: the source that feeds it stopped producing it.",
						"runbook_url": RunbookURL + "#" + Anchor(KpiNoData),
					},
				}}},
			},
		},
		{
			// The whole exporter is gone: its scrape job's up alert covers it, not one alert per KPI.
			Name: KpiNoData + ": quiet when the exporter itself is gone", Interval: "1m", InputSeries: kpis("_x120"),
			AlertTests: []alertTest{{EvalTime: "2h", Alertname: KpiNoData}},
		},
	}
}

func healthTests(o Options) []testGroup {
	inst := func(metric, collector string) string {
		return fmt.Sprintf(`%s{collector=%q, %s}`, metric, collector, exporterLabels)
	}
	health := func(collector string, severity string) map[string]string {
		return map[string]string{"collector": collector, "job": "ztmm", "instance": "ztmm:9867", "severity": severity}
	}
	stale := float64(o.StaleIntervals)
	return []testGroup{
		{
			Name: CollectorDown, Interval: "1m",
			InputSeries: []series{
				{inst("ztmm_collector_up", "github"), "1 1 1 0+0x30"},
				{inst("ztmm_collector_consecutive_failures", "github"), "0 0 0 1+1x30"},
				{inst("ztmm_collector_up", "gitlab"), constant(1, 33)},
			},
			AlertTests: []alertTest{
				{EvalTime: "10m", Alertname: CollectorDown},
				{EvalTime: "25m", Alertname: CollectorDown, ExpAlerts: []expAlert{{
					ExpLabels: health("github", Warning),
					ExpAnnotations: map[string]string{
						"summary":     "Collector github is failing its syncs.",
						"description": "Collector github on ztmm:9867 has failed every sync for 15m (23 failures in a row); the exporter keeps serving its last good values, which age.",
						"runbook_url": RunbookURL + "#" + Anchor(CollectorDown),
					},
				}}},
			},
		},
		{
			Name: CollectorStale, Interval: "1m",
			InputSeries: []series{
				// The test clock starts at the Unix epoch: github last succeeded at 0, gitlab every minute.
				{inst("ztmm_collector_last_success_timestamp_seconds", "github"), constant(0, 60)},
				{inst("ztmm_collector_interval_seconds", "github"), constant(600, 60)},
				{inst("ztmm_collector_last_success_timestamp_seconds", "gitlab"), "0+60x60"},
				{inst("ztmm_collector_interval_seconds", "gitlab"), constant(600, 60)},
			},
			AlertTests: []alertTest{
				{EvalTime: promDuration(time.Duration(stale) * 10 * time.Minute), Alertname: CollectorStale},
				{EvalTime: promDuration(time.Duration(stale)*10*time.Minute + 10*time.Minute), Alertname: CollectorStale, ExpAlerts: []expAlert{{
					ExpLabels: health("github", Warning),
					ExpAnnotations: map[string]string{
						"summary": fmt.Sprintf("Collector github has not synced successfully for %d intervals.", o.StaleIntervals),
						"description": fmt.Sprintf("The last successful sync of collector github on ztmm:9867 ended %s ago, more than %d times its sync interval of 10m 0s; the KPIs it feeds are stale.",
							humanizeDuration(stale*600+600), o.StaleIntervals),
						"runbook_url": RunbookURL + "#" + Anchor(CollectorStale),
					},
				}}},
			},
			PromQLTests: []promqlTest{{
				Expr: "collector:ztmm_collector_staleness:ratio", EvalTime: "30m",
				ExpSamples: []expSample{{Labels: `collector:ztmm_collector_staleness:ratio{collector="github"}`, Value: 3},
					{Labels: `collector:ztmm_collector_staleness:ratio{collector="gitlab"}`, Value: 0}},
			}},
		},
		{
			Name: UpstreamRateLimitLow, Interval: "1m",
			InputSeries: []series{
				{inst("ztmm_upstream_rate_limit_remaining", "github"), "5000 4000 3000 2000 1000 400+0x30"},
				{inst("ztmm_upstream_rate_limit_remaining", "gitlab"), constant(2000, 35)},
			},
			AlertTests: []alertTest{
				{EvalTime: "10m", Alertname: UpstreamRateLimitLow},
				{EvalTime: "20m", Alertname: UpstreamRateLimitLow, ExpAlerts: []expAlert{{
					ExpLabels: health("github", Warning),
					ExpAnnotations: map[string]string{
						"summary": "Collector github is running out of upstream rate-limit budget.",
						"description": fmt.Sprintf("Collector github on ztmm:9867 has 400 upstream requests left, under %g%% of the most it had in the last %s (5000); its syncs will fail with 403 or 429 until the budget resets.",
							o.RateLimitFraction*100, promDuration(o.RateLimitLookback)),
						"runbook_url": RunbookURL + "#" + Anchor(UpstreamRateLimitLow),
					},
				}}},
			},
		},
		pillarTests(),
		recordingTests(),
	}
}

func pillarTests() testGroup {
	pillar := func(p string, level, target, due string) []series {
		l := fmt.Sprintf(`{pillar=%q, %s}`, p, exporterLabels)
		return []series{
			{"ztmm_pillar_maturity_level" + l, level},
			{"ztmm_pillar_maturity_target_level" + l, target},
			{"ztmm_pillar_maturity_target_due_timestamp_seconds" + l, due},
		}
	}
	var in []series
	in = append(in, pillar("identities", constant(2, 180), constant(3, 180), constant(3600, 180))...)   // behind, due at 1h
	in = append(in, pillar("endpoints", constant(3, 180), constant(3, 180), constant(0, 180))...)       // on target
	in = append(in, pillar("network", constant(1, 180), constant(3, 180), constant(1e9, 180))...)       // behind, not yet due
	in = append(in, pillar("service_release", "2+0x60 4+0x120", constant(3, 180), constant(0, 180))...) // caught up
	return testGroup{
		Name: PillarBelowTargetLevel, Interval: "1m", InputSeries: in,
		AlertTests: []alertTest{
			{EvalTime: "1h30m", Alertname: PillarBelowTargetLevel},
			{EvalTime: "2h30m", Alertname: PillarBelowTargetLevel, ExpAlerts: []expAlert{{
				ExpLabels: map[string]string{"pillar": "identities", "severity": Warning},
				ExpAnnotations: map[string]string{
					"summary":     "Pillar identities is below its roadmap's target level after the due date.",
					"description": "Pillar identities is at maturity level 2, below the roadmap's target level 3, which was due 1970-01-01 01:00:00 +0000 UTC.",
					"runbook_url": RunbookURL + "#" + Anchor(PillarBelowTargetLevel),
				},
			}}},
		},
		PromQLTests: []promqlTest{{
			Expr: "pillar:ztmm_pillar_maturity_level:gap", EvalTime: "2h",
			ExpSamples: []expSample{
				{Labels: `pillar:ztmm_pillar_maturity_level:gap{pillar="endpoints"}`, Value: 0},
				{Labels: `pillar:ztmm_pillar_maturity_level:gap{pillar="identities"}`, Value: 1},
				{Labels: `pillar:ztmm_pillar_maturity_level:gap{pillar="network"}`, Value: 2},
				{Labels: `pillar:ztmm_pillar_maturity_level:gap{pillar="service_release"}`, Value: -1},
			},
		}},
	}
}

func recordingTests() testGroup {
	met := func(pillar, kpi, team, service string, v float64) series {
		return series{fmt.Sprintf(`ztmm_kpi_target_met{pillar=%q, kpi=%q, team=%q, service=%q, %s}`, pillar, kpi, team, service, exporterLabels), constant(v, 10)}
	}
	return testGroup{
		Name: "recording rules: share of KPIs meeting their target", Interval: "1m",
		InputSeries: []series{
			met("identities", "mfa_coverage", "", "", 1),
			met("identities", "stale_account_ratio", "", "", 0),
			met("network", "network_segmentation_effectiveness", "", "", 0),
			met("network", "network_threat_detection_time", "", "", 0),
			// Team series only: no organization-wide value, so no pillar ratio for service_release.
			met("service_release", "deployment_frequency", "payments", "", 1),
			met("service_release", "lead_time_for_changes", "payments", "", 0),
			met("service_release", "lead_time_for_changes", "payments", "acme/checkout", 0),
		},
		PromQLTests: []promqlTest{
			{Expr: "pillar:ztmm_kpi_target_met:ratio", EvalTime: "5m", ExpSamples: []expSample{
				{Labels: `pillar:ztmm_kpi_target_met:ratio{pillar="identities"}`, Value: 0.5},
				{Labels: `pillar:ztmm_kpi_target_met:ratio{pillar="network"}`, Value: 0},
			}},
			{Expr: ":ztmm_kpi_target_met:ratio", EvalTime: "5m", ExpSamples: []expSample{
				{Labels: `:ztmm_kpi_target_met:ratio`, Value: 0.25},
			}},
			{Expr: "team:ztmm_kpi_target_met:ratio", EvalTime: "5m", ExpSamples: []expSample{
				{Labels: `team:ztmm_kpi_target_met:ratio{team="payments"}`, Value: 0.5},
			}},
		},
	}
}

// formatValue renders v the way the rules' templates do for the KPI's unit.
func formatValue(u catalog.Unit, v float64) string {
	switch u {
	case catalog.Seconds:
		return humanizeDuration(v)
	case catalog.Ratio:
		return fmt.Sprintf("%.4g%%", v*100)
	case catalog.PerDay:
		return fmt.Sprintf("%.4g per day", v)
	case catalog.Count:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// humanizeDuration is Prometheus' template function of that name for the non-negative values the tests
// use; promtool checks every expectation built with it against the real one.
func humanizeDuration(v float64) string {
	if v == 0 {
		return "0s"
	}
	if v < 1 {
		return fmt.Sprintf("%.4gms", v*1000)
	}
	d := int64(v)
	s, m, h, days := d%60, d/60%60, d/3600%24, d/86400
	switch {
	case days != 0:
		return fmt.Sprintf("%dd %dh %dm %ds", days, h, m, s)
	case h != 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, s)
	case m != 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%.4gs", v)
}
