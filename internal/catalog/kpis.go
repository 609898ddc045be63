package catalog

// kpiDefs is the document's section 5 (5.1 per pillar, 5.2 service release) followed by the supporting
// indicators. Names are the document's wording verbatim; targets are in base units.
func kpiDefs() []KPI {
	const hour, day = 3600.0, 86400.0
	doc := func(area Area, id, name string, unit Unit, op Op, target float64, stat Statistic, docTarget, def string) KPI {
		return KPI{ID: id, Area: area, Name: name, Unit: unit, Op: op, Target: target, Origin: Document,
			Statistic: stat, DocumentTarget: docTarget, Definition: def, Incidents: stat == Reduction}
	}
	reduction := func(area Area, id, name string, target float64, docTarget string) KPI {
		return doc(area, id, name, Ratio, GE, target, Reduction, docTarget,
			"1 − "+string(area)+" incidents in the window / configured baseline")
	}
	manual := "manual measurement or PromQL"
	ks := []KPI{
		doc(Identities, "identity_verification_time", "Identity verification time", Seconds, LT, 2, P95, "<2 seconds", "p95 of OIDC token-request probe durations"),
		doc(Identities, "privileged_access_fulfillment_time", "Privileged access request fulfillment time", Seconds, LT, 300, Median, "<5 minutes", "median privileged access request → granted"),
		reduction(Identities, "identity_incident_reduction", "Identity-related security incidents", 0.90, "90% reduction"),
		doc(Identities, "user_experience_score", "User experience satisfaction score", Score, GT, 4.5, Latest, ">4.5/5", "latest user satisfaction survey value (1–5)"),

		doc(Endpoints, "endpoint_compliance_rate", "Endpoint compliance rate", Ratio, GT, 0.99, PooledRatio, ">99%", "compliant / managed devices"),
		doc(Endpoints, "endpoint_threat_response_time", "Threat detection and response time", Seconds, LT, 60, Median, "<1 minute", "median endpoint alert created → resolved"),
		reduction(Endpoints, "endpoint_incident_reduction", "Endpoint security incidents", 0.95, "95% reduction"),
		doc(Endpoints, "endpoint_performance_impact", "Endpoint performance impact", Ratio, LT, 0.05, Latest, "<5%", manual),

		doc(Applications, "application_deployment_frequency", "Application deployment frequency", PerDay, GE, 1, DORA, "daily", "per service: production deployments per day; team and organization: median over services"),
		doc(Applications, "application_vulnerability_resolution_time", "Application security vulnerability resolution time", Seconds, LT, day, Median, "<24 hours", "median vulnerability created → fixed, severity high and critical"),
		reduction(Applications, "application_incident_reduction", "Application-related security incidents", 0.90, "90% reduction"),
		doc(Applications, "application_availability", "Application availability", Ratio, GT, 0.999, Latest, ">99.9%", "PromQL, e.g. avg_over_time(probe_success[30d])"),

		doc(Infrastructure, "infrastructure_provisioning_time", "Infrastructure provisioning time", Seconds, LT, 30*60, Median, "<30 minutes", "median duration of IaC pipeline runs"),
		doc(Infrastructure, "infrastructure_policy_compliance_rate", "Security policy compliance rate", Ratio, GT, 0.99, PooledRatio, ">99%", "passed / (passed + failed) infrastructure policy checks"),
		reduction(Infrastructure, "infrastructure_incident_reduction", "Infrastructure-related security incidents", 0.95, "95% reduction"),
		doc(Infrastructure, "infrastructure_cost_reduction", "Infrastructure cost optimization", Ratio, GE, 0.20, Latest, "20% reduction", manual),

		doc(Data, "data_classification_accuracy", "Data classification accuracy", Ratio, GT, 0.99, Latest, ">99%", manual),
		doc(Data, "data_access_fulfillment_time", "Data access request fulfillment time", Seconds, LT, 60, Median, "<1 minute", "median data access request → granted"),
		reduction(Data, "data_incident_reduction", "Data-related security incidents", 0.95, "95% reduction"),
		doc(Data, "data_governance_compliance_rate", "Data governance compliance rate", Ratio, GT, 0.99, PooledRatio, ">99%", "passed / (passed + failed) data-category policy checks"),

		doc(Network, "network_segmentation_effectiveness", "Network segmentation effectiveness", Ratio, GT, 0.95, PooledRatio, ">95%", "pods selected by a NetworkPolicy / pods"),
		doc(Network, "network_threat_detection_time", "Network threat detection time", Seconds, LT, 30, Latest, "<30 seconds", manual),
		reduction(Network, "network_incident_reduction", "Network-related security incidents", 0.90, "90% reduction"),
		doc(Network, "network_performance_improvement", "Network performance optimization", Ratio, GE, 0.15, Latest, "15% improvement", manual),

		doc(ServiceRelease, "deployment_frequency", "Deployment frequency", PerDay, GT, 1, DORA, "multiple times per day", "successful production deployments / window days (team and organization: sum)"),
		doc(ServiceRelease, "lead_time_for_changes", "Lead time for changes", Seconds, LT, hour, DORA, "<1 hour", "median over changes of deployment time − commit author time"),
		doc(ServiceRelease, "mean_time_to_recovery", "Mean time to recovery", Seconds, LT, 15*60, DORA, "<15 minutes", "mean over recoveries completed in the window"),
		doc(ServiceRelease, "change_failure_rate", "Change failure rate", Ratio, LT, 0.05, DORA, "<5%", "failed deployments / deployments"),
		doc(ServiceRelease, "security_scan_completion_time", "Security scan completion time", Seconds, LT, 10*60, Median, "<10 minutes", "median duration of security-scan jobs"),
		doc(ServiceRelease, "security_policy_compliance_rate", "Security policy compliance rate", Ratio, GE, 1.0, PooledRatio, "100%", "services whose default branch meets the release policy / services"),
		doc(ServiceRelease, "security_related_rollback_rate", "Security-related rollbacks", Ratio, LT, 0.01, DORA, "<1%", "rollbacks linked to a security incident / deployments"),
		doc(ServiceRelease, "vulnerability_resolution_time", "Vulnerability resolution time", Seconds, LT, 4*hour, Median, "<4 hours", "median vulnerability created → fixed, severity critical"),
		doc(ServiceRelease, "manual_intervention_rate", "Manual intervention rate", Ratio, LT, 0.05, DORA, "<5%", "manually triggered deployments / deployments"),
		doc(ServiceRelease, "automation_success_rate", "Automation success rate", Ratio, GT, 0.99, DORA, ">99%", "successful / finished production deployment runs"),
		doc(ServiceRelease, "manual_effort_reduction", "Process efficiency improvement", Ratio, GE, 0.50, Latest, "50% reduction in manual effort", manual),
		doc(ServiceRelease, "cost_per_deployment_reduction", "Cost per deployment", Ratio, GE, 0.60, Latest, "60% reduction", manual),
	}
	ind := func(area Area, id, name string, unit Unit, op Op, target float64, stat Statistic, def string) KPI {
		return KPI{ID: id, Area: area, Name: name, Unit: unit, Op: op, Target: target, Origin: Indicator, Statistic: stat, Definition: def}
	}
	return append(ks,
		ind(Identities, "mfa_coverage", "MFA coverage", Ratio, GE, 0.99, PooledRatio, "active human users with an active MFA factor / active human users"),
		ind(Identities, "standing_privileged_accounts", "Standing privileged accounts", Count, LE, 0, Gauge, "privileged role holders with a permanent assignment"),
		ind(Identities, "stale_account_ratio", "Stale account ratio", Ratio, LE, 0.02, PooledRatio, "enabled accounts without sign-in for 90 days / enabled accounts"),
		ind(Applications, "open_critical_vulnerabilities", "Open critical vulnerabilities", Count, LE, 0, Gauge, "open vulnerability findings of critical severity"),
	)
}
