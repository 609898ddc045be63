// Package generate gathers every generated file of the repository (dashboards, rule files, METRICS.md)
// by path, for cmd/ztmm-gen to write and for the test that fails when a committed file is stale.
package generate

import (
	"fmt"

	"github.com/ztmm/ztmm/alerts"
	"github.com/ztmm/ztmm/dashboards"
	"github.com/ztmm/ztmm/deploy"
)

// All returns every generated file, keyed by its path relative to the repository root.
func All() (map[string][]byte, error) {
	out := map[string][]byte{"METRICS.md": MetricsDoc()}
	for name, gen := range map[string]func() (map[string][]byte, error){
		"alerts":     alerts.Files,
		"dashboards": dashboards.Files,
		"deploy":     deploy.Files,
	} {
		files, err := gen()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for p, b := range files {
			if _, dup := out[p]; dup {
				return nil, fmt.Errorf("%s: %s is generated twice", name, p)
			}
			out[p] = b
		}
	}
	return out, nil
}
