package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Maturity configures maturity scoring beyond the defaults of SPEC section 4: measured rules that add to
// or override the built-in ones.
type Maturity struct {
	// Rules make criteria measured. All rules of one criterion must hold (a criterion such as seamless
	// continuous deployment needs several KPIs); the rules written here for a criterion replace its
	// built-in rules, so an organization can tighten, loosen or switch off a default.
	Rules []MeasuredRule `yaml:"rules"`
}

// MeasuredRule makes a criterion measured by a KPI.
type MeasuredRule struct {
	Criterion string    `yaml:"criterion"`
	KPI       string    `yaml:"kpi"`
	Condition Condition `yaml:"condition"`
}

// ConditionKind is what a measured rule asks of its KPI.
type ConditionKind string

// Condition kinds.
const (
	// Met holds when the KPI meets its target (after config overrides).
	Met ConditionKind = "met"
	// HasData holds when the KPI has a value: the capability exists, whatever its level.
	HasData ConditionKind = "has_data"
	// Compare holds when the KPI's value satisfies the rule's own comparison, e.g. "< 0.5".
	Compare ConditionKind = "compare"
	// AttestationOnly switches a built-in rule off: the criterion is judged by attestation alone.
	AttestationOnly ConditionKind = "attestation_only"
)

// Condition is a rule's condition: met, has_data, attestation_only, or a comparison such as "< 0.5",
// "<= 2h" or "> 99%" whose value is in the KPI's base unit (durations and percentages are converted).
type Condition struct {
	Kind  ConditionKind
	Op    catalog.Op // Compare only
	Value Quantity   // Compare only
}

func (c *Condition) decodeNode(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	switch ConditionKind(s) {
	case Met, HasData, AttestationOnly:
		*c = Condition{Kind: ConditionKind(s)}
		return nil
	}
	expect := fmt.Errorf("expected met, has_data, attestation_only or a comparison like \"< 0.5\", got %q", s)
	op := catalog.Op(strings.TrimRight(s[:min(2, len(s))], " 0123456789.-"))
	if !op.Valid() {
		return expect
	}
	var q Quantity
	if err := q.decodeNode(&yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(s[len(op):])}); err != nil {
		return expect
	}
	*c = Condition{Kind: Compare, Op: op, Value: q}
	return nil
}

// String writes the condition the way it is written in config.
func (c Condition) String() string {
	if c.Kind != Compare {
		return string(c.Kind)
	}
	raw := c.Value.raw
	if raw == "" {
		raw = strconv.FormatFloat(c.Value.Value, 'g', -1, 64)
	}
	return string(c.Op) + " " + raw
}

// MarshalYAML writes the condition back in config syntax.
func (c Condition) MarshalYAML() (any, error) { return c.String(), nil }

// CompareCondition returns the condition "op value" with value in the KPI's base unit; for built-in rules.
func CompareCondition(op catalog.Op, value float64) Condition {
	return Condition{Kind: Compare, Op: op, Value: Quantity{Value: value, Kind: "number"}}
}

func (m *Maturity) validate(c *Config) error {
	cat := catalog.Default()
	var ids []string
	for _, cr := range cat.Criteria() {
		ids = append(ids, cr.ID)
	}
	off, measured := map[string]bool{}, map[string]bool{}
	for i, r := range m.Rules {
		p := fmt.Sprintf("maturity.rules[%d]", i)
		if r.Criterion == "" {
			return c.fail(p+".criterion", "expected the id of the criterion the rule measures, e.g. identities.l2.mfa")
		}
		cr, ok := cat.Criterion(r.Criterion)
		if !ok {
			return c.fail(p+".criterion", "unknown criterion %q%s; expected an id printed by ztmm-exporter --assessment.template", r.Criterion, didYouMean(r.Criterion, ids))
		}
		if cr.Level == 1 {
			return c.fail(p+".criterion", "%s is a level-1 criterion: level 1 describes the starting point and is always met; expected a criterion of level 2 to 5", r.Criterion)
		}
		if r.Condition.Kind == "" {
			return c.fail(p+".condition", "expected met, has_data, attestation_only or a comparison like \"< 0.5\"")
		}
		if r.Condition.Kind == AttestationOnly {
			if r.KPI != "" {
				return c.fail(p+".kpi", "expected no KPI with condition attestation_only: it switches measurement off for %s", r.Criterion)
			}
			off[r.Criterion] = true
		} else {
			measured[r.Criterion] = true
		}
		if off[r.Criterion] && measured[r.Criterion] {
			return c.fail(p+".condition", "%s has both attestation_only and a measured rule; expected one or the other", r.Criterion)
		}
		if r.Condition.Kind == AttestationOnly {
			continue
		}
		if r.KPI == "" {
			return c.fail(p+".kpi", "expected the id of the KPI that measures %s", r.Criterion)
		}
		k, ok := cat.KPI(r.KPI)
		if !ok {
			return c.fail(p+".kpi", "unknown KPI %q%s; expected a KPI id from METRICS.md", r.KPI, didYouMean(r.KPI, cat.KPIIDs()))
		}
		if r.Condition.Kind == Compare {
			if err := checkUnit(k, r.Condition.Value); err != nil {
				return c.fail(p+".condition", "%v", err)
			}
		}
	}
	return nil
}
