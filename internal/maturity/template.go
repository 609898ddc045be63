package maturity

import (
	"bytes"
	"fmt"

	"github.com/ztmm/ztmm/internal/catalog"
)

const templateHeader = `# ztmm maturity assessment
#
# The governance council's attestations, one per criterion of the Zero Trust Maturity Model for Automated
# Service Releases (the document's section 4.1, step 1: current state assessment). Every criterion of
# every area and level is listed below with the document's words. To record one, uncomment its block
# (delete the leading "# " of its five lines) and fill it in:
#
#   met:          true or false
#   evidence:     a link to what shows it: a document, ticket, dashboard or audit report
#   assessed_by:  who assessed it
#   date:         when, YYYY-MM-DD; not in the future
#   note:         optional, free text
#
# An attestation holds for assessment.validity in the configuration (default 90d: the document's
# quarterly reassessment). After that the criterion is reported as expired and counts as not met until
# it is assessed again with a new date.
#
# Level-1 criteria describe the starting point: they are always met and take no attestation.
# A criterion marked "measured" is decided by ztmm from its KPIs whenever they have data; its
# attestation counts only while they have none.
#
# ztmm-exporter --config.check validates this file together with the configuration.

attestations:
`

// Template returns the complete assessment template: every criterion of every area and level, with the
// document's text and its measured rule, as a commented YAML file that is valid as it is (it attests
// nothing) and becomes an assessment as blocks are uncommented.
func Template(cat *catalog.Catalog) []byte {
	var b bytes.Buffer
	b.WriteString(templateHeader)
	rules := Rules(nil)
	for _, a := range cat.Areas() {
		fmt.Fprintf(&b, "\n  # ════ %s (document section %s): %s\n", a.Title, a.Section, a.Description)
		for _, l := range a.Levels {
			title := fmt.Sprintf("Level %d: %s", l.Number, l.Name)
			if l.Stage != "" {
				title += " (" + l.Stage + ")"
			}
			if l.Readiness != "" {
				title += ", release readiness " + l.Readiness
			}
			if l.Number == 1 {
				fmt.Fprintf(&b, "\n  # ── %s: the baseline, always met\n", title)
				for _, c := range l.Criteria {
					fmt.Fprintf(&b, "  #    %s: %s\n", c.ID, c.Text)
				}
				continue
			}
			fmt.Fprintf(&b, "\n  # ── %s\n", title)
			for _, c := range l.Criteria {
				fmt.Fprintf(&b, "\n  # %s\n", c.Text)
				if rs := rules[c.ID]; len(rs) > 0 {
					fmt.Fprintf(&b, "  # measured: %s\n", describe(cat, rs))
				} else {
					b.WriteString("  # attested only\n")
				}
				fmt.Fprintf(&b, "  # %s:\n  #   met: false\n  #   evidence: \"\"\n  #   assessed_by: \"\"\n  #   date: YYYY-MM-DD\n", c.ID)
			}
		}
	}
	return b.Bytes()
}
