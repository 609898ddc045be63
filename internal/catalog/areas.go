package catalog

import "fmt"

// levelNames are the document's level names for the six pillars (section 2) and the service release
// process (section 3.1), with the pillars' parenthesised stage.
var (
	pillarLevelNames  = [5]string{"Traditional", "Managed", "Defined", "Quantitatively Managed", "Optimizing"}
	pillarLevelStages = [5]string{"Initial", "Developing", "Intermediate", "Advanced", "Mature"}
	releaseLevelNames = [5]string{"Manual", "Managed", "Defined", "Quantitatively Managed", "Optimizing"}
	releaseReadiness  = [5]string{"0-20%", "21-40%", "41-60%", "61-80%", "81-100%"}
)

// crit is a criterion before it is placed: a stable slug and the document's text, verbatim.
type crit struct{ slug, text string }

type areaSrc struct {
	id          Area
	title       string
	section     string
	description string
	levels      [5][4]crit
}

// areaSources is the document's sections 2.1–2.6 and 3.1. Texts are copied verbatim; slugs are ours
// and stable (they are the `criterion` label and the assessment file's keys).
var areaSources = []areaSrc{
	{Identities, "Identities", "2.1", "Secure identity verification and management for all users and services", [5][4]crit{
		{{"basic_identity_management", "Basic identity management with manual processes"}, {"password_authentication", "Password-based authentication"}, {"limited_governance", "Limited identity governance"}, {"manual_provisioning", "Manual user provisioning and deprovisioning"}},
		{{"mfa", "Multi-factor authentication implemented"}, {"automated_provisioning", "Automated user provisioning"}, {"basic_governance", "Basic identity governance processes"}, {"rbac_reviews", "Role-based access control with regular reviews"}},
		{{"risk_based_authentication", "Risk-based authentication"}, {"privileged_access_management", "Privileged access management"}, {"identity_analytics", "Identity analytics and monitoring"}, {"automated_compliance_reporting", "Automated compliance reporting"}},
		{{"continuous_authn_authz", "Continuous authentication and authorization"}, {"ai_identity_risk", "AI-driven identity risk assessment"}, {"zero_standing_privileges", "Zero standing privileges"}, {"realtime_identity_threat_detection", "Real-time identity threat detection"}},
		{{"automated_lifecycle", "Fully automated identity lifecycle management"}, {"predictive_identity_risk", "Predictive identity risk modeling"}, {"self_healing_identity", "Self-healing identity configurations"}, {"seamless_user_experience", "Seamless user experience with maximum security"}},
	}},
	{Endpoints, "Endpoints", "2.2", "Comprehensive endpoint security and management", [5][4]crit{
		{{"basic_antivirus", "Basic antivirus and endpoint protection"}, {"manual_device_management", "Manual device management"}, {"limited_visibility", "Limited device visibility"}, {"reactive_security", "Reactive security approach"}},
		{{"centralized_management", "Centralized endpoint management"}, {"automated_patching", "Automated patch management"}, {"device_compliance_policies", "Device compliance policies"}, {"basic_edr", "Basic endpoint detection and response"}},
		{{"advanced_threat_protection", "Advanced threat protection"}, {"device_trust_verification", "Device trust verification"}, {"automated_remediation", "Automated remediation capabilities"}, {"comprehensive_monitoring", "Comprehensive endpoint monitoring"}},
		{{"ai_threat_detection", "AI-powered threat detection"}, {"predictive_security", "Predictive endpoint security"}, {"zero_trust_device_verification", "Zero trust device verification"}, {"realtime_posture_assessment", "Real-time security posture assessment"}},
		{{"autonomous_security", "Autonomous endpoint security"}, {"self_healing_endpoints", "Self-healing endpoint configurations"}, {"predictive_maintenance", "Predictive maintenance and security"}, {"seamless_performance", "Seamless security with optimal performance"}},
	}},
	{Applications, "Applications", "2.3", "Secure application development, deployment, and management", [5][4]crit{
		{{"manual_deployment", "Manual application deployment"}, {"basic_security_testing", "Basic application security testing"}, {"limited_visibility", "Limited application visibility"}, {"reactive_security", "Reactive security approach"}},
		{{"automated_cicd", "Automated CI/CD pipelines"}, {"integrated_security_testing", "Security testing integrated into development"}, {"performance_monitoring", "Application performance monitoring"}, {"basic_security_policies", "Basic application security policies"}},
		{{"devsecops", "DevSecOps practices implemented"}, {"rasp", "Runtime application self-protection"}, {"api_security", "API security and management"}, {"automated_compliance_checking", "Automated security compliance checking"}},
		{{"ai_application_security", "AI-powered application security"}, {"continuous_security_validation", "Continuous security validation"}, {"zero_trust_architecture", "Zero trust application architecture"}, {"realtime_threat_response", "Real-time threat detection and response"}},
		{{"autonomous_security", "Autonomous application security"}, {"self_healing_applications", "Self-healing application configurations"}, {"predictive_security_performance", "Predictive security and performance"}, {"seamless_deployment", "Seamless deployment with maximum security"}},
	}},
	{Infrastructure, "Infrastructure", "2.4", "Secure infrastructure management and orchestration", [5][4]crit{
		{{"manual_management", "Manual infrastructure management"}, {"basic_network_controls", "Basic network security controls"}, {"limited_visibility", "Limited infrastructure visibility"}, {"reactive_security", "Reactive security approach"}},
		{{"iac", "Infrastructure as Code (IaC) implementation"}, {"automated_policy_enforcement", "Automated security policy enforcement"}, {"monitoring_alerting", "Infrastructure monitoring and alerting"}, {"basic_compliance_automation", "Basic compliance automation"}},
		{{"micro_segmentation", "Micro-segmentation implemented"}, {"automated_threat_response", "Automated threat detection and response"}, {"security_orchestration", "Infrastructure security orchestration"}, {"comprehensive_monitoring", "Comprehensive security monitoring"}},
		{{"ai_infrastructure_security", "AI-powered infrastructure security"}, {"predictive_management", "Predictive infrastructure management"}, {"zero_trust_network_architecture", "Zero trust network architecture"}, {"realtime_posture_management", "Real-time security posture management"}},
		{{"autonomous_security", "Autonomous infrastructure security"}, {"self_healing_infrastructure", "Self-healing infrastructure configurations"}, {"predictive_capacity_planning", "Predictive capacity and security planning"}, {"optimal_performance", "Optimal performance with maximum security"}},
	}},
	{Data, "Data", "2.5", "Comprehensive data protection and governance", [5][4]crit{
		{{"basic_classification", "Basic data classification"}, {"manual_protection", "Manual data protection processes"}, {"limited_visibility", "Limited data visibility"}, {"reactive_security", "Reactive data security approach"}},
		{{"automated_classification", "Automated data classification"}, {"dlp", "Data loss prevention (DLP) implementation"}, {"access_controls_monitoring", "Data access controls and monitoring"}, {"basic_governance_policies", "Basic data governance policies"}},
		{{"advanced_protection_encryption", "Advanced data protection and encryption"}, {"activity_monitoring", "Data activity monitoring and analytics"}, {"automated_governance_workflows", "Automated data governance workflows"}, {"comprehensive_security_policies", "Comprehensive data security policies"}},
		{{"ai_data_security_analytics", "AI-powered data security analytics"}, {"predictive_risk_assessment", "Predictive data risk assessment"}, {"zero_trust_data_architecture", "Zero trust data architecture"}, {"realtime_threat_detection", "Real-time data threat detection"}},
		{{"autonomous_management", "Autonomous data security management"}, {"self_healing_protection", "Self-healing data protection configurations"}, {"predictive_governance", "Predictive data governance and compliance"}, {"optimal_utility", "Optimal data utility with maximum protection"}},
	}},
	{Network, "Network", "2.6", "Secure network architecture and management", [5][4]crit{
		{{"perimeter_security", "Perimeter-based security model"}, {"manual_configuration", "Manual network configuration"}, {"limited_visibility", "Limited network visibility"}, {"reactive_security", "Reactive security approach"}},
		{{"segmentation", "Network segmentation implementation"}, {"automated_monitoring", "Automated network monitoring"}, {"nac", "Network access control (NAC)"}, {"basic_security_policies", "Basic network security policies"}},
		{{"micro_segmentation_sdp", "Micro-segmentation and software-defined perimeter"}, {"advanced_threat_detection", "Advanced network threat detection"}, {"automated_orchestration", "Automated network security orchestration"}, {"comprehensive_monitoring", "Comprehensive network security monitoring"}},
		{{"ai_network_analytics", "AI-powered network security analytics"}, {"predictive_threat_modeling", "Predictive network threat modeling"}, {"ztna", "Zero trust network access (ZTNA)"}, {"realtime_posture_management", "Real-time network security posture management"}},
		{{"autonomous_management", "Autonomous network security management"}, {"self_healing_network", "Self-healing network configurations"}, {"predictive_optimization", "Predictive network optimization"}, {"optimal_performance", "Optimal performance with maximum security"}},
	}},
	{ServiceRelease, "Service release", "3.1", "Automated service release capabilities", [5][4]crit{
		{{"manual_deployment", "Manual deployment procedures"}, {"basic_testing", "Basic testing and validation"}, {"limited_rollback", "Limited rollback capabilities"}, {"manual_approvals", "Manual approval workflows"}},
		{{"automated_pipelines", "Automated deployment pipelines"}, {"automated_testing", "Automated testing integration"}, {"basic_rollback_automation", "Basic rollback automation"}, {"approval_workflow_automation", "Workflow automation for approvals"}},
		{{"comprehensive_cicd", "Comprehensive CI/CD implementation"}, {"automated_security_validation", "Automated security validation"}, {"automated_rollback_recovery", "Automated rollback and recovery"}, {"policy_driven_release", "Policy-driven release automation"}},
		{{"ai_release_optimization", "AI-powered release optimization"}, {"predictive_quality", "Predictive quality assessment"}, {"risk_based_decisions", "Automated risk-based release decisions"}, {"realtime_release_monitoring", "Real-time release monitoring and adjustment"}},
		{{"autonomous_release", "Fully autonomous release management"}, {"self_healing_release", "Self-healing release configurations"}, {"predictive_release_planning", "Predictive release planning and optimization"}, {"seamless_continuous_deployment", "Seamless continuous deployment with maximum reliability"}},
	}},
}

func areaDefs() []AreaDef {
	out := make([]AreaDef, 0, len(areaSources))
	for _, src := range areaSources {
		a := AreaDef{ID: src.id, Title: src.title, Section: src.section, Description: src.description}
		for i, crits := range src.levels {
			l := Level{Number: i + 1, Name: pillarLevelNames[i], Stage: pillarLevelStages[i]}
			if src.id == ServiceRelease {
				l.Name, l.Stage, l.Readiness = releaseLevelNames[i], "", releaseReadiness[i]
			}
			for _, c := range crits {
				l.Criteria = append(l.Criteria, Criterion{
					ID: fmt.Sprintf("%s.l%d.%s", src.id, i+1, c.slug), Area: src.id, Level: i + 1, Slug: c.slug, Text: c.text,
				})
			}
			a.Levels = append(a.Levels, l)
		}
		out = append(out, a)
	}
	return out
}
