package maturity

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ztmm/ztmm/internal/catalog"
)

var update = flag.Bool("update", false, "rewrite testdata/assessment/template.yaml from Template")

const templateGolden = "../../testdata/assessment/template.yaml"

func TestTemplateGolden(t *testing.T) {
	got := Template(catalog.Default())
	if *update {
		if err := os.WriteFile(templateGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(templateGolden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Template differs from %s; run go test ./internal/maturity -update and review the diff", templateGolden)
	}
}

func TestTemplateListsEveryCriterion(t *testing.T) {
	cat := catalog.Default()
	tmpl := string(Template(cat))
	all := cat.Criteria()
	if len(all) != 140 {
		t.Fatalf("catalog has %d criteria, want 140", len(all))
	}
	for _, c := range all {
		if !strings.Contains(tmpl, "  # "+c.Text+"\n") && !strings.Contains(tmpl, c.ID+": "+c.Text+"\n") {
			t.Errorf("%s: the document's text %q is missing", c.ID, c.Text)
		}
		if !regexp.MustCompile(`(?m)^  # +` + regexp.QuoteMeta(c.ID) + `:`).MatchString(tmpl) {
			t.Errorf("%s is missing", c.ID)
		}
	}
	rules := Rules(nil)
	if got, want := strings.Count(tmpl, "  # measured: "), len(rules); got != want {
		t.Errorf("%d criteria marked measured, want %d (one per criterion with default rules)", got, want)
	}
	if !strings.Contains(tmpl, "  # measured: manual_intervention_rate < 0.5\n  # service_release.l2.automated_pipelines:\n") {
		t.Error("service_release.l2.automated_pipelines does not show its measured rule")
	}
}

func TestTemplateIsAValidAssessment(t *testing.T) {
	tmpl := Template(catalog.Default())
	a, err := ParseAssessment(tmpl, "template.yaml", now)
	if err != nil {
		t.Fatalf("the template as printed: %v", err)
	}
	if len(a.Attestations) != 0 {
		t.Errorf("the template attests %d criteria, want none", len(a.Attestations))
	}

	// The council uncomments blocks and fills them in: with every block so, all 112 criteria of levels
	// 2-5 are attested.
	block := regexp.MustCompile(`(?m)^  # ((?:[a-z_]+\.l[2-5]\.[a-z_]+:)|(?:  (?:met|evidence|assessed_by|date): .*))$`)
	filled := block.ReplaceAllString(string(tmpl), "  $1")
	filled = strings.NewReplacer(`evidence: ""`, "evidence: https://wiki.example.com/zt",
		`assessed_by: ""`, "assessed_by: council", "YYYY-MM-DD", "2026-02-01").Replace(filled)
	a, err = ParseAssessment([]byte(filled), "template.yaml", now)
	if err != nil {
		t.Fatalf("the template filled in: %v", err)
	}
	if len(a.Attestations) != 112 {
		t.Errorf("filled template attests %d criteria, want 112", len(a.Attestations))
	}

	// Uncommented but not filled in, the first block names what is missing.
	unfilled := block.ReplaceAllString(string(tmpl), "  $1")
	_, err = ParseAssessment([]byte(unfilled), "template.yaml", now)
	if err == nil || !strings.Contains(err.Error(), `attestations.identities.l2.mfa.date: expected a date like 2025-11-01 (YYYY-MM-DD), got "YYYY-MM-DD"`) {
		t.Errorf("unfilled template: %v, want the placeholder date named", err)
	}
}
