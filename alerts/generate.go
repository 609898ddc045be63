// Package alerts builds ztmm's Prometheus recording and alerting rules from the catalog.
package alerts

// Files returns the generated rule files keyed by path relative to the repository root.
func Files() (map[string][]byte, error) { return map[string][]byte{}, nil }
