package config

import (
	"testing"

	"github.com/ztmm/ztmm/internal/catalog"
)

func TestMaturityRules(t *testing.T) {
	const head = "organization: Acme\nmaturity:\n  rules:\n"
	for _, tc := range []struct {
		name, rules string
		want        string // the exact error, or "" for a valid file
		check       func(t *testing.T, c *Config)
	}{
		{name: "met and has_data", rules: `
    - {criterion: identities.l2.mfa, kpi: mfa_coverage, condition: met}
    - {criterion: network.l2.segmentation, kpi: network_segmentation_effectiveness, condition: has_data}
`, check: func(t *testing.T, c *Config) {
			if got := c.Maturity.Rules[0].Condition; got.Kind != Met {
				t.Errorf("condition = %+v, want met", got)
			}
			if got := c.Maturity.Rules[1].Condition.Kind; got != HasData {
				t.Errorf("condition = %v, want has_data", got)
			}
		}},
		{name: "comparison in base unit", rules: `
    - {criterion: service_release.l2.automated_pipelines, kpi: manual_intervention_rate, condition: "< 0.5"}
`, check: func(t *testing.T, c *Config) {
			got := c.Maturity.Rules[0].Condition
			if got.Kind != Compare || got.Op != catalog.LT || got.Value.Value != 0.5 {
				t.Errorf("condition = %+v, want < 0.5", got)
			}
			if got.String() != "< 0.5" {
				t.Errorf("String() = %q", got.String())
			}
		}},
		{name: "comparison with a percentage and a duration", rules: `
    - {criterion: service_release.l2.automated_pipelines, kpi: manual_intervention_rate, condition: "<=20%"}
    - {criterion: service_release.l3.automated_rollback_recovery, kpi: mean_time_to_recovery, condition: "< 1h"}
`, check: func(t *testing.T, c *Config) {
			if got := c.Maturity.Rules[0].Condition; got.Op != catalog.LE || got.Value.Value != 0.2 {
				t.Errorf("condition = %+v, want <= 0.2", got)
			}
			if got := c.Maturity.Rules[1].Condition; got.Op != catalog.LT || got.Value.Value != 3600 {
				t.Errorf("condition = %+v, want < 3600", got)
			}
		}},
		{name: "attestation only", rules: `
    - {criterion: identities.l2.mfa, condition: attestation_only}
`, check: func(t *testing.T, c *Config) {
			if got := c.Maturity.Rules[0].Condition.Kind; got != AttestationOnly {
				t.Errorf("condition = %v", got)
			}
		}},
		{name: "unknown criterion", rules: `
    - {criterion: identities.l2.mfaa, kpi: mfa_coverage, condition: met}
`, want: `t.yaml:4: maturity.rules[0].criterion: unknown criterion "identities.l2.mfaa" (did you mean "identities.l2.mfa"?); expected an id printed by ztmm-exporter --assessment.template`},
		{name: "level-1 criterion", rules: `
    - criterion: identities.l1.password_authentication
      kpi: mfa_coverage
      condition: met
`, want: `t.yaml:4: maturity.rules[0].criterion: identities.l1.password_authentication is a level-1 criterion: level 1 describes the starting point and is always met; expected a criterion of level 2 to 5`},
		{name: "unknown KPI", rules: `
    - criterion: identities.l2.mfa
      kpi: mfa_coverge
      condition: met
`, want: `t.yaml:5: maturity.rules[0].kpi: unknown KPI "mfa_coverge" (did you mean "mfa_coverage"?); expected a KPI id from METRICS.md`},
		{name: "missing KPI", rules: `
    - {criterion: identities.l2.mfa, condition: met}
`, want: `t.yaml:4: maturity.rules[0].kpi: expected the id of the KPI that measures identities.l2.mfa`},
		{name: "missing condition", rules: `
    - {criterion: identities.l2.mfa, kpi: mfa_coverage}
`, want: `t.yaml:4: maturity.rules[0].condition: expected met, has_data, attestation_only or a comparison like "< 0.5"`},
		{name: "bad condition", rules: `
    - criterion: identities.l2.mfa
      kpi: mfa_coverage
      condition: mostly
`, want: `t.yaml:6: maturity.rules[0].condition: expected met, has_data, attestation_only or a comparison like "< 0.5", got "mostly"`},
		{name: "comparison without a value", rules: `
    - {criterion: identities.l2.mfa, kpi: mfa_coverage, condition: ">="}
`, want: `t.yaml:4: maturity.rules[0].condition: expected met, has_data, attestation_only or a comparison like "< 0.5", got ">="`},
		{name: "comparison in the wrong unit", rules: `
    - criterion: service_release.l2.automated_pipelines
      kpi: manual_intervention_rate
      condition: "< 2h"
`, want: `t.yaml:6: maturity.rules[0].condition: expected a value in ratio for manual_intervention_rate, got the duration "2h"`},
		{name: "attestation only with a KPI", rules: `
    - {criterion: identities.l2.mfa, kpi: mfa_coverage, condition: attestation_only}
`, want: `t.yaml:4: maturity.rules[0].kpi: expected no KPI with condition attestation_only: it switches measurement off for identities.l2.mfa`},
		{name: "attestation only and measured", rules: `
    - {criterion: identities.l2.mfa, kpi: mfa_coverage, condition: met}
    - {criterion: identities.l2.mfa, condition: attestation_only}
`, want: `t.yaml:5: maturity.rules[1].condition: identities.l2.mfa has both attestation_only and a measured rule; expected one or the other`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(head+tc.rules[1:]), "t.yaml")
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("error\n got: %v\nwant: %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
