package maturity

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ztmm/ztmm/internal/config"
)

// demoAttestation is one line of the demo council's assessment: a criterion, the verdict and how many
// days before now it was assessed.
type demoAttestation struct {
	criterion string
	met       bool
	daysAgo   int
	by        string
}

// demoAttestations is the demo organization's assessment. It is written so the areas sit at different
// levels with the KPI values the demo is built to produce (see TestDemoAssessmentHandWorked, which
// writes the expected outcome down), with one attestation expired (data.l2.dlp, assessed 120 days ago:
// the quarterly reassessment is overdue) and the data pillar behind its roadmap because of it.
// Criteria with measured rules are attested too, so the levels do not depend on which KPIs have data
// yet (a fresh demo has little history), and measured evidence visibly wins once they have.
func demoAttestations() []demoAttestation {
	return []demoAttestation{
		// Identities: level 3, half of level 4.
		{"identities.l2.mfa", true, 40, "IAM specialist"},
		{"identities.l2.automated_provisioning", true, 40, "IAM specialist"},
		{"identities.l2.basic_governance", true, 40, "IAM specialist"},
		{"identities.l2.rbac_reviews", true, 40, "IAM specialist"},
		{"identities.l3.risk_based_authentication", true, 40, "IAM specialist"},
		{"identities.l3.privileged_access_management", true, 40, "IAM specialist"},
		{"identities.l3.identity_analytics", true, 40, "IAM specialist"},
		{"identities.l3.automated_compliance_reporting", true, 40, "IAM specialist"},
		{"identities.l4.continuous_authn_authz", true, 12, "Security architecture lead"},
		{"identities.l4.ai_identity_risk", false, 12, "Security architecture lead"},
		{"identities.l4.realtime_identity_threat_detection", true, 12, "Security architecture lead"},

		// Endpoints: level 2; device trust verification waits for the compliance rate to reach target.
		{"endpoints.l2.centralized_management", true, 55, "Endpoint security specialist"},
		{"endpoints.l2.automated_patching", true, 55, "Endpoint security specialist"},
		{"endpoints.l2.device_compliance_policies", true, 55, "Endpoint security specialist"},
		{"endpoints.l2.basic_edr", true, 55, "Endpoint security specialist"},
		{"endpoints.l3.advanced_threat_protection", true, 55, "Endpoint security specialist"},
		{"endpoints.l3.automated_remediation", false, 55, "Endpoint security specialist"},

		// Applications: level 2, three quarters of level 3 (no runtime self-protection yet).
		{"applications.l2.automated_cicd", true, 30, "Application security specialist"},
		{"applications.l2.integrated_security_testing", true, 30, "Application security specialist"},
		{"applications.l2.performance_monitoring", true, 30, "Application security specialist"},
		{"applications.l2.basic_security_policies", true, 30, "Application security specialist"},
		{"applications.l3.devsecops", true, 30, "Application security specialist"},
		{"applications.l3.rasp", false, 30, "Application security specialist"},
		{"applications.l3.automated_compliance_checking", true, 30, "Application security specialist"},
		{"applications.l3.api_security", true, 30, "Application security specialist"},

		// Infrastructure: level 3.
		{"infrastructure.l2.iac", true, 20, "Infrastructure security specialist"},
		{"infrastructure.l2.automated_policy_enforcement", true, 20, "Infrastructure security specialist"},
		{"infrastructure.l2.monitoring_alerting", true, 20, "Infrastructure security specialist"},
		{"infrastructure.l2.basic_compliance_automation", true, 20, "Infrastructure security specialist"},
		{"infrastructure.l3.micro_segmentation", true, 20, "Infrastructure security specialist"},
		{"infrastructure.l3.automated_threat_response", true, 20, "Infrastructure security specialist"},
		{"infrastructure.l3.security_orchestration", true, 20, "Infrastructure security specialist"},
		{"infrastructure.l3.comprehensive_monitoring", true, 20, "Infrastructure security specialist"},

		// Data: level 1 because DLP's attestation expired; behind its roadmap.
		{"data.l2.automated_classification", true, 25, "Data protection specialist"},
		{"data.l2.dlp", true, 120, "Data protection specialist"},
		{"data.l2.access_controls_monitoring", true, 25, "Data protection specialist"},
		{"data.l2.basic_governance_policies", true, 25, "Data protection specialist"},

		// Network: level 2, a quarter of level 3 (micro-segmentation).
		{"network.l2.segmentation", true, 50, "Network security specialist"},
		{"network.l2.automated_monitoring", true, 50, "Network security specialist"},
		{"network.l2.nac", true, 50, "Network security specialist"},
		{"network.l2.basic_security_policies", true, 50, "Network security specialist"},
		{"network.l3.micro_segmentation_sdp", true, 50, "Network security specialist"},
		{"network.l3.advanced_threat_detection", false, 50, "Network security specialist"},

		// Service release: level 3, a quarter of level 4 (45 % readiness).
		{"service_release.l2.automated_pipelines", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l2.automated_testing", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l2.basic_rollback_automation", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l2.approval_workflow_automation", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l3.automated_security_validation", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l3.automated_rollback_recovery", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l3.policy_driven_release", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l3.comprehensive_cicd", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l4.realtime_release_monitoring", true, 8, "DevOps/platform engineering lead"},
		{"service_release.l4.ai_release_optimization", false, 8, "DevOps/platform engineering lead"},
	}
}

// DemoAssessment returns the demo organization's assessment file, dated relative to now so that exactly
// one attestation (data.l2.dlp) is expired under the default 90-day validity, whenever the demo runs.
func DemoAssessment(now time.Time) []byte {
	today := now.UTC().Truncate(24 * time.Hour)
	var b bytes.Buffer
	b.WriteString("# The demo organization's maturity assessment (generated relative to the demo's start).\nattestations:\n")
	for _, a := range demoAttestations() {
		fmt.Fprintf(&b, "  %s:\n    met: %t\n    evidence: https://wiki.demo.example/zero-trust/%s\n    assessed_by: %s\n    date: %s\n",
			a.criterion, a.met, a.criterion, a.by, today.AddDate(0, 0, -a.daysAgo).Format(time.DateOnly))
	}
	return b.Bytes()
}

// DemoRoadmap returns the demo organization's roadmap (the document's step 2, target state definition),
// due dates relative to now: every area has a target, the data pillar's was due 30 days ago and is
// missed, infrastructure's is already reached.
func DemoRoadmap(now time.Time) map[string]config.RoadmapTarget {
	today := now.UTC().Truncate(24 * time.Hour)
	due := func(days int) config.Date { return config.Date{Time: today.AddDate(0, 0, days)} }
	return map[string]config.RoadmapTarget{
		"identities":      {Level: 4, Due: due(180)},
		"endpoints":       {Level: 3, Due: due(90)},
		"applications":    {Level: 3, Due: due(120)},
		"infrastructure":  {Level: 3, Due: due(60)},
		"data":            {Level: 2, Due: due(-30)},
		"network":         {Level: 3, Due: due(150)},
		"service_release": {Level: 4, Due: due(270)},
	}
}
