package alerts

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

// specAlerts are the stable alert names of SPEC section 5.
var specAlerts = []string{KpiTargetBreached, KpiTargetBreachPredicted, KpiNoData, PillarBelowTargetLevel,
	CollectorDown, CollectorStale, UpstreamRateLimitLow}

func defaultRules(t *testing.T) RuleFile {
	t.Helper()
	rf, err := Rules(catalog.Default(), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return rf
}

// TestEveryAlertIsAnnotated checks the contract every alert keeps, and that the runbook has the section
// its runbook_url points at.
func TestEveryAlertIsAnnotated(t *testing.T) {
	rf := defaultRules(t)
	rb, err := os.ReadFile(RunbookPath[len("alerts/"):])
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(rb), -1) {
		anchors[Anchor(m[1])] = true
	}
	seen := map[string]bool{}
	for _, r := range rf.Alerts() {
		seen[r.Alert] = true
		switch r.Labels["severity"] {
		case Critical, Warning, Info:
		default:
			t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, r.Labels["severity"])
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s (%s): no %s", r.Alert, r.Labels["kpi"], a)
			}
		}
		url, anchor, _ := strings.Cut(r.Annotations["runbook_url"], "#")
		if url != RunbookURL || !anchors[anchor] {
			t.Errorf("%s (%s): runbook_url %q has no section in %s", r.Alert, r.Labels["kpi"], r.Annotations["runbook_url"], RunbookPath)
		}
	}
	for _, a := range specAlerts {
		if !seen[a] {
			t.Errorf("no rule for SPEC alert %s", a)
		}
		if !anchors[Anchor(a)] {
			t.Errorf("runbook has no section %q", a)
		}
	}
}

// TestOneRulePerKPI: each KPI has its own breach and prediction rule, selecting only that KPI, with the
// policy's severity and hold time, and labels that identify it.
func TestOneRulePerKPI(t *testing.T) {
	rf := defaultRules(t)
	byName := map[string]map[string]Rule{}
	for _, r := range rf.Alerts() {
		if byName[r.Alert] == nil {
			byName[r.Alert] = map[string]Rule{}
		}
		if _, dup := byName[r.Alert][r.Labels["kpi"]]; dup {
			t.Errorf("%s: two rules for kpi %q", r.Alert, r.Labels["kpi"])
		}
		byName[r.Alert][r.Labels["kpi"]] = r
	}
	for _, k := range catalog.Default().KPIs() {
		p, err := PolicyFor(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{KpiTargetBreached, KpiTargetBreachPredicted} {
			r, ok := byName[name][k.ID]
			if !ok {
				t.Errorf("%s: no rule for %s", name, k.ID)
				continue
			}
			if r.Labels["pillar"] != string(k.Area) {
				t.Errorf("%s %s: pillar label %q, want %q", name, k.ID, r.Labels["pillar"], k.Area)
			}
			if n := strings.Count(r.Expr, `kpi="`+k.ID+`"`); n == 0 || n != strings.Count(r.Expr, `kpi="`) {
				t.Errorf("%s %s: expression selects other KPIs:\n%s", name, k.ID, r.Expr)
			}
		}
		if r := byName[KpiTargetBreached][k.ID]; r.For != promDuration(p.For) || r.Labels["severity"] != p.Severity {
			t.Errorf("%s %s: for %s severity %s, want %s %s", KpiTargetBreached, k.ID, r.For, r.Labels["severity"], promDuration(p.For), p.Severity)
		}
	}
}

// TestPredictionDirection: the prediction compares towards the target's bad side and requires the
// slope to point there, for each operator.
func TestPredictionDirection(t *testing.T) {
	for _, tc := range []struct {
		op           catalog.Op
		cmp, worsens string
	}{
		{catalog.LT, ">= on (pillar, kpi)", "> 0)"},
		{catalog.LE, "> on (pillar, kpi)", "> 0)"},
		{catalog.GT, "<= on (pillar, kpi)", "< 0)"},
		{catalog.GE, "< on (pillar, kpi)", "< 0)"},
	} {
		k := catalog.KPI{ID: "x", Area: catalog.Data, Name: "X", Unit: catalog.Ratio, Op: tc.op, Target: 0.5}
		r := predictRule(k, Policy{Severity: Warning}, DefaultOptions())
		if !strings.Contains(r.Expr, "\n  "+tc.cmp) || !strings.Contains(r.Expr, "[7d])) "+tc.worsens) {
			t.Errorf("op %s: want %q and slope %q in\n%s", tc.op, tc.cmp, tc.worsens, r.Expr)
		}
		if !strings.Contains(r.Expr, "predict_linear(ztmm_kpi_value{kpi=\"x\"}[7d], 1209600)") {
			t.Errorf("op %s: prediction is not 14 days over 7d:\n%s", tc.op, r.Expr)
		}
	}
}

func TestOptionsAreApplied(t *testing.T) {
	o := DefaultOptions()
	o.PredictionRange, o.StaleIntervals, o.RateLimitFraction = 3*24*time.Hour, 5, 0.2
	rf, err := Rules(catalog.Default(), o)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, r := range rf.Alerts() {
		all.WriteString(r.Expr + "\n")
	}
	for _, want := range []string{"[3d], 1209600)", "> 5 * ztmm_collector_interval_seconds", "< 0.2 * max_over_time"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("options not applied: no %q", want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for name, mut := range map[string]func(*Options){
		"zero range":        func(o *Options) { o.PredictionRange = 0 },
		"negative horizon":  func(o *Options) { o.PredictionHorizon = -time.Hour },
		"no stale interval": func(o *Options) { o.StaleIntervals = 0 },
		"fraction of 1":     func(o *Options) { o.RateLimitFraction = 1 },
		"zero lookback":     func(o *Options) { o.NoDataLookback = 0 },
	} {
		o := DefaultOptions()
		mut(&o)
		if _, err := Rules(catalog.Default(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPolicyForUnknownKPI(t *testing.T) {
	if _, err := PolicyFor(catalog.KPI{ID: "made_up"}); err == nil || !strings.Contains(err.Error(), "made_up") {
		t.Errorf("PolicyFor(made_up) = %v, want an error naming it", err)
	}
}

func TestAnchor(t *testing.T) {
	for in, want := range map[string]string{
		"ZtmmKpiTargetBreached":                   "ztmmkpitargetbreached",
		"ZtmmKpiTargetBreached (service_release)": "ztmmkpitargetbreached-service_release",
		"What it means: A/B!":                     "what-it-means-ab",
	} {
		if got := Anchor(in); got != want {
			t.Errorf("Anchor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		14 * 24 * time.Hour: "14d", 7 * 24 * time.Hour: "7d", time.Hour: "1h", 90 * time.Minute: "1h30m", 15 * time.Minute: "15m",
	} {
		if got := promDuration(d); got != want {
			t.Errorf("promDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestUnitTestsCoverEveryAlert: the generated promtool files have, for every alert, an evaluation that
// expects it firing and one that expects it quiet.
func TestUnitTestsCoverEveryAlert(t *testing.T) {
	files, err := unitTests(catalog.Default(), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	firing, quiet := map[string]int{}, map[string]int{}
	for _, f := range files {
		for _, g := range f.Tests {
			for _, at := range g.AlertTests {
				if len(at.ExpAlerts) == 0 {
					quiet[at.Alertname]++
					continue
				}
				firing[at.Alertname]++
				for _, a := range at.ExpAlerts {
					if len(a.ExpAnnotations) != 3 {
						t.Errorf("%s in %q: expects annotations %v, want summary, description and runbook_url", at.Alertname, g.Name, a.ExpAnnotations)
					}
				}
			}
		}
	}
	for _, a := range specAlerts {
		if firing[a] == 0 || quiet[a] == 0 {
			t.Errorf("%s: %d firing and %d quiet cases, want both", a, firing[a], quiet[a])
		}
	}
	// Every KPI's breach rule fires in the tests.
	kpis := map[string]bool{}
	for _, f := range files {
		for _, g := range f.Tests {
			for _, at := range g.AlertTests {
				for _, a := range at.ExpAlerts {
					if at.Alertname == KpiTargetBreached || at.Alertname == KpiTargetBreachPredicted {
						kpis[at.Alertname+"/"+a.ExpLabels["kpi"]] = true
					}
				}
			}
		}
	}
	for _, k := range catalog.Default().KPIs() {
		for _, a := range []string{KpiTargetBreached, KpiTargetBreachPredicted} {
			if !kpis[a+"/"+k.ID] {
				t.Errorf("%s never fires for %s in the unit tests", a, k.ID)
			}
		}
	}
}

func TestPrometheusRuleMatchesRuleFile(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	rules := string(files[RulesPath])
	pr := string(files[PrometheusRulePath])
	// The spec is the rule file indented under `spec:`.
	body := rules[strings.Index(rules, "groups:"):]
	indented := "  " + strings.ReplaceAll(strings.TrimSuffix(body, "\n"), "\n", "\n  ") + "\n"
	if !strings.Contains(pr, "kind: PrometheusRule\n") || !strings.HasSuffix(pr, "spec:\n"+indented) {
		t.Errorf("%s does not carry %s's groups as its spec", PrometheusRulePath, RulesPath)
	}
}
