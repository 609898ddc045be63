package maturity

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/kpi"
)

// DefaultRules are SPEC section 4's measured rules, plus a few that follow from the same KPIs: a KPI that
// can only be reported when a capability exists (a compliance rate needs compliance policies, a
// segmentation ratio needs segmentation) measures that capability's criterion. All rules of one criterion
// must hold.
func DefaultRules() []config.MeasuredRule {
	met := config.Condition{Kind: config.Met}
	hasData := config.Condition{Kind: config.HasData}
	r := func(criterion, kpi string, c config.Condition) config.MeasuredRule {
		return config.MeasuredRule{Criterion: criterion, KPI: kpi, Condition: c}
	}
	return []config.MeasuredRule{
		// SPEC section 4.
		r("identities.l2.mfa", "mfa_coverage", met),
		r("identities.l3.privileged_access_management", "privileged_access_fulfillment_time", met),
		r("identities.l4.zero_standing_privileges", "standing_privileged_accounts", met),
		r("endpoints.l3.device_trust_verification", "endpoint_compliance_rate", met),
		r("applications.l2.automated_cicd", "application_deployment_frequency", hasData),
		r("applications.l3.automated_compliance_checking", "security_policy_compliance_rate", met),
		r("infrastructure.l2.iac", "infrastructure_provisioning_time", hasData),
		r("infrastructure.l2.automated_policy_enforcement", "infrastructure_policy_compliance_rate", hasData),
		r("network.l3.micro_segmentation_sdp", "network_segmentation_effectiveness", met),
		r("service_release.l2.automated_pipelines", "manual_intervention_rate", config.CompareCondition(catalog.LT, 0.5)),
		r("service_release.l3.automated_security_validation", "security_scan_completion_time", met),
		r("service_release.l3.automated_rollback_recovery", "mean_time_to_recovery", met),
		r("service_release.l3.policy_driven_release", "security_policy_compliance_rate", met),
		r("service_release.l5.seamless_continuous_deployment", "deployment_frequency", met),
		r("service_release.l5.seamless_continuous_deployment", "lead_time_for_changes", met),
		r("service_release.l5.seamless_continuous_deployment", "mean_time_to_recovery", met),
		r("service_release.l5.seamless_continuous_deployment", "change_failure_rate", met),
		// Extensions: the same KPIs, for the criteria they also evidence.
		r("infrastructure.l3.micro_segmentation", "network_segmentation_effectiveness", met),
		r("network.l2.segmentation", "network_segmentation_effectiveness", hasData),
		r("endpoints.l2.device_compliance_policies", "endpoint_compliance_rate", hasData),
		r("applications.l2.integrated_security_testing", "security_scan_completion_time", hasData),
		r("data.l2.basic_governance_policies", "data_governance_compliance_rate", hasData),
	}
}

// Rules returns the measured rules in force, by criterion: the defaults, with every criterion that config
// writes rules for taking config's rules instead. A criterion switched to attestation_only has none.
func Rules(cfg *config.Config) map[string][]config.MeasuredRule {
	out := map[string][]config.MeasuredRule{}
	for _, r := range DefaultRules() {
		out[r.Criterion] = append(out[r.Criterion], r)
	}
	if cfg == nil || cfg.Maturity == nil {
		return out
	}
	replaced := map[string]bool{}
	for _, r := range cfg.Maturity.Rules {
		if !replaced[r.Criterion] {
			replaced[r.Criterion] = true
			delete(out, r.Criterion)
		}
		if r.Condition.Kind != config.AttestationOnly {
			out[r.Criterion] = append(out[r.Criterion], r)
		}
	}
	return out
}

// outcome is what the KPIs say about a criterion.
type outcome int

const (
	noData outcome = iota // some KPI of the rules has no value and none that has one fails
	holds
	fails
)

// measure applies a criterion's rules to the organization-level KPI values. A rule that fails on a KPI
// with data settles the criterion even when another rule's KPI has no data: more data could not make
// it met. The returned text says why, for the report and logs.
func measure(rules []config.MeasuredRule, kpis *kpi.Result) (outcome, string) {
	var why []string
	missing, failed := false, false
	for _, r := range rules {
		s, ok := kpis.Org(r.KPI)
		if !ok {
			missing = true
			why = append(why, r.KPI+" has no data")
			continue
		}
		v := strconv.FormatFloat(s.Value, 'g', 6, 64)
		var good bool
		var cond string
		switch r.Condition.Kind {
		case config.HasData:
			good, cond = true, "has data"
		case config.Met:
			good, cond = s.Met, fmt.Sprintf("target %s %s", s.Op, strconv.FormatFloat(s.Target, 'g', 6, 64))
		case config.Compare:
			good, cond = r.Condition.Op.Holds(s.Value, r.Condition.Value.Value), r.Condition.String()
		}
		verdict := "meets"
		if !good {
			failed, verdict = true, "does not meet"
		}
		why = append(why, fmt.Sprintf("%s = %s %s %s", r.KPI, v, verdict, cond))
	}
	text := strings.Join(why, "; ")
	switch {
	case failed:
		return fails, text
	case missing:
		return noData, text
	}
	return holds, text
}

// describe says what a criterion's rules ask, for the template and docs.
func describe(cat *catalog.Catalog, rules []config.MeasuredRule) string {
	var parts []string
	for _, r := range rules {
		switch r.Condition.Kind {
		case config.HasData:
			parts = append(parts, r.KPI+" has data")
		case config.Met:
			target := ""
			if k, ok := cat.KPI(r.KPI); ok {
				target = " (" + k.DocumentTarget + ")"
				if k.DocumentTarget == "" {
					target = fmt.Sprintf(" (%s %s %s)", k.Op, strconv.FormatFloat(k.Target, 'g', -1, 64), k.Unit)
				}
			}
			parts = append(parts, r.KPI+" meets its target"+target)
		case config.Compare:
			parts = append(parts, r.KPI+" "+r.Condition.String())
		}
	}
	return strings.Join(parts, " and ")
}
