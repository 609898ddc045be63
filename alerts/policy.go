package alerts

import (
	"fmt"
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Severities, the only three the monitoring mixins (and our Alertmanager routes) know.
const (
	Critical = "critical"
	Warning  = "warning"
	Info     = "info"
)

// Policy is how ZtmmKpiTargetBreached treats one KPI: how loud it is and how long the breach must hold.
type Policy struct {
	Kind     string
	Severity string
	For      time.Duration
	// Why is the one-line reason, printed in the runbook's table so the choice is reviewable.
	Why string
}

// The four kinds of breach, from the most to the least urgent. Durations follow how fast each kind of
// value moves: current gauges change the moment a finding opens or closes; live probes are percentiles
// over short windows; window statistics (medians, ratios, reductions over 30 days) only move when an
// event arrives, so an hour rides over a sync that briefly recomputes on partial data without delaying
// a real breach noticeably.
func policyKinds() [4]Policy {
	return [4]Policy{
		{"current exposure (open critical vulnerabilities, standing privileged accounts)",
			Critical, 15 * time.Minute, "an exposure an attacker can use today: page"},
		{"live control (probes: identity verification time, application availability)",
			Warning, 30 * time.Minute, "a live probe of a control underperforms: act this week"},
		{"control over the window (compliance, response and fulfilment times, incidents, DORA stability)",
			Warning, time.Hour, "a security or reliability control underperforms over the window: act this week"},
		{"improvement target (throughput, cost, experience, manual measurements)",
			Info, time.Hour, "a throughput or business-improvement target: review at the monthly review"},
	}
}

// PolicyFor returns the breach policy of a KPI. Every catalog KPI must be listed: a new KPI fails
// generation until someone decides how loud its breach is.
func PolicyFor(k catalog.KPI) (Policy, error) {
	k4 := policyKinds()
	exposure, liveControl, control, improvement := k4[0], k4[1], k4[2], k4[3]
	switch k.ID {
	case "open_critical_vulnerabilities", "standing_privileged_accounts":
		return exposure, nil
	case "identity_verification_time", "application_availability":
		return liveControl, nil
	case "privileged_access_fulfillment_time", "identity_incident_reduction", "mfa_coverage", "stale_account_ratio",
		"endpoint_compliance_rate", "endpoint_threat_response_time", "endpoint_incident_reduction",
		"application_vulnerability_resolution_time", "application_incident_reduction",
		"infrastructure_policy_compliance_rate", "infrastructure_incident_reduction",
		"data_access_fulfillment_time", "data_incident_reduction", "data_governance_compliance_rate",
		"network_segmentation_effectiveness", "network_incident_reduction",
		"mean_time_to_recovery", "change_failure_rate", "security_scan_completion_time",
		"security_policy_compliance_rate", "security_related_rollback_rate", "vulnerability_resolution_time",
		"automation_success_rate":
		return control, nil
	case "user_experience_score", "endpoint_performance_impact", "application_deployment_frequency",
		"infrastructure_provisioning_time", "infrastructure_cost_reduction", "data_classification_accuracy",
		"network_threat_detection_time", "network_performance_improvement",
		"deployment_frequency", "lead_time_for_changes", "manual_intervention_rate",
		"manual_effort_reduction", "cost_per_deployment_reduction":
		return improvement, nil
	}
	return Policy{}, fmt.Errorf("kpi %s has no breach policy: add it to alerts.PolicyFor", k.ID)
}
