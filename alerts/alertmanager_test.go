package alerts

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const alertmanagerConfig = "../deploy/alertmanager/alertmanager.yml"

func TestAlertmanagerConfigChecks(t *testing.T) {
	amtool := tool(t, "amtool")
	out := run(t, ".", amtool, "check-config", alertmanagerConfig)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("amtool check-config:\n%s", out)
	}
}

// TestAlertmanagerRouting: alerts reach the team in their labels by severity, the exporter's health
// goes to its operators, info to the monthly review, organization-wide alerts to the programme.
func TestAlertmanagerRouting(t *testing.T) {
	amtool := tool(t, "amtool")
	cfg, err := filepath.Abs(alertmanagerConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=ZtmmKpiTargetBreached", "severity=critical", "team=payments", "service=acme/checkout"}, "payments-pager"},
		{[]string{"alertname=ZtmmKpiTargetBreached", "severity=warning", "team=payments"}, "payments-chat"},
		{[]string{"alertname=ZtmmKpiTargetBreached", "severity=critical", "team=platform"}, "platform-pager"},
		{[]string{"alertname=ZtmmKpiTargetBreached", "severity=warning", "team=platform"}, "platform-chat"},
		{[]string{"alertname=ZtmmKpiTargetBreachPredicted", "severity=info", "team=payments"}, "monthly-review"},
		{[]string{"alertname=ZtmmKpiTargetBreached", "severity=critical", "pillar=identities"}, "security-pager"},
		{[]string{"alertname=ZtmmPillarBelowTargetLevel", "severity=warning", "pillar=identities"}, "zero-trust-programme"},
		{[]string{"alertname=ZtmmCollectorDown", "severity=warning", "collector=github"}, "ztmm-operators"},
		{[]string{"alertname=ZtmmUpstreamRateLimitLow", "severity=warning", "collector=github"}, "ztmm-operators"},
	} {
		t.Run(strings.Join(tc.labels, ","), func(t *testing.T) {
			args := append([]string{"config", "routes", "test", "--config.file=" + cfg}, tc.labels...)
			// stdout only: amtool warns on stderr that --config.file overrides the Alertmanager URL.
			out, err := exec.Command(amtool, args...).Output()
			if err != nil {
				t.Fatalf("amtool %s: %v", strings.Join(args, " "), err)
			}
			got := strings.TrimSpace(string(out))
			if got != tc.want {
				t.Errorf("routed to %q, want %q", got, tc.want)
			}
		})
	}
}
