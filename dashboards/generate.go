// Package dashboards builds ztmm's Grafana dashboards from the catalog with grafana-foundation-sdk: the
// executive overview, one dashboard per pillar, service release and exporter health. cmd/ztmm-gen
// writes them to dashboards/*.json; the JSON is committed so users can provision or import it as is.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/ztmm/ztmm/internal/catalog"
)

// Dir is where the generated dashboards live, relative to the repository root.
const Dir = "dashboards"

// Files returns the generated dashboards keyed by path relative to the repository root.
func Files() (map[string][]byte, error) {
	boards, err := All(catalog.Default())
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(boards))
	for _, d := range boards {
		b, err := marshal(d)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", *d.Uid, err)
		}
		out[Dir+"/"+fileName(*d.Uid)] = b
	}
	out[Dir+"/.lint"] = lintConfig(boards)
	return out, nil
}

// fileName keeps the file name equal to the UID, so a file on disk and the dashboard in Grafana are
// found by the same word.
func fileName(uid string) string { return uid + ".json" }

// All builds every dashboard, in the order they are linked: overview, pillars, service release, health.
func All(cat *catalog.Catalog) ([]dashboard.Dashboard, error) {
	var out []dashboard.Dashboard
	add := func(d dashboard.Dashboard, err error) error {
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	}
	if err := add(overview(cat)); err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	for _, a := range cat.Areas() {
		if err := add(area(cat, a)); err != nil {
			return nil, fmt.Errorf("%s: %w", a.ID, err)
		}
	}
	if err := add(exporterHealth()); err != nil {
		return nil, fmt.Errorf("exporter health: %w", err)
	}
	return out, nil
}

// marshal renders a dashboard the way Grafana exports one: indented, with a trailing newline, and without
// HTML escaping so that PromQL's <, > and & stay readable in review.
func marshal(d dashboard.Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
