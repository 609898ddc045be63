package maturity

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
)

// Assessment is the governance council's assessment file: at most one attestation per criterion.
type Assessment struct {
	File         string
	Attestations map[string]Attestation // by criterion id
}

// Attestation is the council's judgement of one criterion: met or not, the evidence that shows it, who
// assessed it and when.
type Attestation struct {
	Criterion  string
	Met        bool
	Evidence   string
	AssessedBy string
	Date       time.Time // a day, 00:00 UTC
	Note       string
}

// Expired reports whether the attestation is older than validity at now. An attestation is still valid
// when exactly validity has passed: the SPEC says "older than its validity".
func (a Attestation) Expired(validity time.Duration, now time.Time) bool {
	return now.Sub(a.Date) > validity
}

// Expires returns the moment the attestation stops counting.
func (a Attestation) Expires(validity time.Duration) time.Time { return a.Date.Add(validity) }

// assessmentFile is the file's shape; pointers tell a missing field from a zero one.
type assessmentFile struct {
	Attestations map[string]attestationEntry `yaml:"attestations"`
}

type attestationEntry struct {
	Met        *bool       `yaml:"met"`
	Evidence   string      `yaml:"evidence"`
	AssessedBy string      `yaml:"assessed_by"`
	Date       config.Date `yaml:"date"`
	Note       string      `yaml:"note"`
}

// maxClockSkew lets an assessor east of UTC write today's local date before it is that date in UTC
// (UTC+14 is the furthest timezone).
const maxClockSkew = 14 * time.Hour

// LoadAssessment reads and validates the assessment file at path. now is the moment of loading: a date
// after it is refused. Errors are *config.Error values naming the file, line and field.
func LoadAssessment(path string, now time.Time) (*Assessment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &config.Error{File: path, Msg: "expected an assessment file; it does not exist (ztmm-exporter --assessment.template prints one to start from)"}
		}
		return nil, &config.Error{File: path, Msg: fmt.Sprintf("cannot read the assessment file: %v", errors.Unwrap(err))}
	}
	return ParseAssessment(b, path, now)
}

// ParseAssessment validates an assessment read from file (named in messages).
func ParseAssessment(b []byte, file string, now time.Time) (*Assessment, error) {
	var probe yaml.Node
	if err := yaml.Unmarshal(b, &probe); err == nil && probe.Kind == 0 {
		return nil, &config.Error{File: file, Msg: "the assessment file is empty; expected an attestations: mapping (ztmm-exporter --assessment.template prints one to start from)"}
	}
	var f assessmentFile
	lines, err := config.DecodeBytes(b, file, &f)
	if err != nil {
		return nil, err
	}
	cat := catalog.Default()
	var known []string
	for _, c := range cat.Criteria() {
		known = append(known, c.ID)
	}
	a := &Assessment{File: file, Attestations: map[string]Attestation{}}
	ids := make([]string, 0, len(f.Attestations))
	for id := range f.Attestations {
		ids = append(ids, id)
	}
	// Sorted so that a file with several mistakes always reports the same one first.
	slices.Sort(ids)
	for _, id := range ids {
		e := f.Attestations[id]
		p := "attestations." + id
		cr, ok := cat.Criterion(id)
		if !ok {
			hint := ""
			if c := catalog.Closest(id, known); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			}
			return nil, lines.Fail(p, "unknown criterion%s; expected a criterion id as printed by ztmm-exporter --assessment.template", hint)
		}
		if cr.Level == 1 {
			return nil, lines.Fail(p, "level-1 criteria describe the starting point and are always met; expected attestations of level 2 to 5 only")
		}
		switch {
		case e.Met == nil:
			return nil, lines.Fail(p+".met", "expected met: true or met: false")
		case strings.TrimSpace(e.Evidence) == "":
			return nil, lines.Fail(p+".evidence", "expected a link to the evidence (document, ticket, dashboard or audit report), e.g. evidence: https://wiki.example.com/zero-trust/mfa")
		case strings.TrimSpace(e.AssessedBy) == "":
			return nil, lines.Fail(p+".assessed_by", "expected who assessed the criterion, e.g. assessed_by: Jane Doe (IAM lead)")
		case e.Date.IsZero():
			return nil, lines.Fail(p+".date", "expected the date of the assessment, e.g. date: %s", now.UTC().Format(time.DateOnly))
		case e.Date.After(now.Add(maxClockSkew)):
			return nil, lines.Fail(p+".date", "expected the date the criterion was assessed, not one in the future: %s is after today (%s)", e.Date.Format(time.DateOnly), now.UTC().Format(time.DateOnly))
		}
		a.Attestations[id] = Attestation{Criterion: id, Met: *e.Met, Evidence: strings.TrimSpace(e.Evidence),
			AssessedBy: strings.TrimSpace(e.AssessedBy), Date: e.Date.Time, Note: e.Note}
	}
	return a, nil
}
