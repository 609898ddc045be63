package maturity

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/config"
)

func TestLoadValidAssessment(t *testing.T) {
	a, err := LoadAssessment("../../testdata/assessment/valid.yaml", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Attestations) != 3 {
		t.Fatalf("%d attestations, want 3", len(a.Attestations))
	}
	want := Attestation{Criterion: "identities.l2.mfa", Met: false, Evidence: "https://jira.acme.example/browse/ZT-12",
		AssessedBy: "Jane Doe (IAM lead)", Date: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), Note: "contractors are not enrolled yet"}
	if got := a.Attestations["identities.l2.mfa"]; got != want {
		t.Errorf("attestation\n got %+v\nwant %+v", got, want)
	}
}

func TestInvalidAssessments(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"unknown-criterion.yaml", `unknown-criterion.yaml:7: attestations.identities.l2.rbac_review: unknown criterion (did you mean "identities.l2.rbac_reviews"?); expected a criterion id as printed by ztmm-exporter --assessment.template`},
		{"future-date.yaml", `future-date.yaml:6: attestations.network.l2.nac.date: expected the date the criterion was assessed, not one in the future: 2026-03-03 is after today (2026-03-01)`},
		{"missing-met.yaml", `missing-met.yaml:2: attestations.data.l2.dlp.met: expected met: true or met: false`},
		{"missing-evidence.yaml", `missing-evidence.yaml:2: attestations.data.l2.dlp.evidence: expected a link to the evidence (document, ticket, dashboard or audit report), e.g. evidence: https://wiki.example.com/zero-trust/mfa`},
		{"missing-assessed-by.yaml", `missing-assessed-by.yaml:2: attestations.data.l2.dlp.assessed_by: expected who assessed the criterion, e.g. assessed_by: Jane Doe (IAM lead)`},
		{"missing-date.yaml", `missing-date.yaml:2: attestations.data.l2.dlp.date: expected the date of the assessment, e.g. date: 2026-03-01`},
		{"bad-date.yaml", `bad-date.yaml:6: attestations.data.l2.dlp.date: expected a date like 2025-11-01 (YYYY-MM-DD), got "01/02/2026"`},
		{"met-yes.yaml", `met-yes.yaml:3: attestations.data.l2.dlp.met: expected true or false, got "yes please"`},
		{"level-one.yaml", `level-one.yaml:2: attestations.endpoints.l1.basic_antivirus: level-1 criteria describe the starting point and are always met; expected attestations of level 2 to 5 only`},
		{"unknown-field.yaml", `unknown-field.yaml:5: attestations.data.l2.dlp.assesed_by: unknown field (did you mean "assessed_by"?); expected one of: assessed_by, date, evidence, met, note`},
		{"duplicate.yaml", `duplicate.yaml:7: attestations.data.l2.dlp: appears twice; expected each name once`},
		{"list.yaml", `list.yaml:2: attestations: expected a mapping of names to values, got a list`},
		{"empty.yaml", `empty.yaml: the assessment file is empty; expected an attestations: mapping (ztmm-exporter --assessment.template prints one to start from)`},
		{"does-not-exist.yaml", `does-not-exist.yaml: expected an assessment file; it does not exist (ztmm-exporter --assessment.template prints one to start from)`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadAssessment(filepath.Join("../../testdata/assessment", tc.file), now)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *config.Error", err, err)
			}
			ce.File = filepath.Base(ce.File)
			if got := ce.Error(); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestAssessmentDateTimezoneSlack(t *testing.T) {
	// At 12:00 UTC it is already the next day east of UTC+12; such an assessor's "today" is accepted.
	const file = "attestations:\n  data.l2.dlp: {met: true, evidence: x, assessed_by: y, date: 2026-03-02}\n"
	if _, err := ParseAssessment([]byte(file), "a.yaml", now); err != nil {
		t.Errorf("tomorrow in UTC+14 refused: %v", err)
	}
	if _, err := ParseAssessment([]byte(file), "a.yaml", now.Add(-13*time.Hour)); err == nil {
		t.Error("a date more than 14 hours ahead accepted")
	}
}
