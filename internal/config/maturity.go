package config

// Maturity configures maturity scoring beyond the defaults of SPEC section 4: measured rules that add to
// or override the built-in ones.
type Maturity struct {
	Rules []MeasuredRule `yaml:"rules"`
}

// MeasuredRule makes a criterion measured by a KPI.
type MeasuredRule struct {
	Criterion string `yaml:"criterion"`
	KPI       string `yaml:"kpi"`
	// Condition is "met" (the KPI meets its target) or "has_data" (the KPI has a value).
	Condition string `yaml:"condition"`
}

func (m *Maturity) validate(c *Config) error { return nil }
