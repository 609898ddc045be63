package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ztmm/ztmm/internal/maturity"
)

// The governance council's side of the demo: an assessment file in which the pillars sit at different
// levels with one expired attestation, and a roadmap with one pillar behind its due date.
func init() {
	parts = append(parts, func(_ context.Context, d *Demo, opts Options, data *configData) error {
		now := opts.Now()
		if err := d.write("assessment.yml", maturity.DemoAssessment(now)); err != nil {
			return err
		}
		roadmap := maturity.DemoRoadmap(now)
		areas := make([]string, 0, len(roadmap))
		for a := range roadmap {
			areas = append(areas, a)
		}
		sort.Strings(areas)
		var b strings.Builder
		b.WriteString("assessment:\n  file: assessment.yml\n  validity: 90d\nroadmap:\n")
		for _, a := range areas {
			r := roadmap[a]
			fmt.Fprintf(&b, "  %s: {level: %d, due: %s}\n", a, r.Level, r.Due.Format(time.DateOnly))
		}
		data.Extra = append(data.Extra, b.String())
		return nil
	})
}
