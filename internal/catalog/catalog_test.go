package catalog

import (
	"bufio"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// document is the source document as sections: heading → its bullet lines in order.
type document struct {
	levels map[string][]string // "2.1/3" or "3.1/3" → criteria bullets of that level
	kpis   map[string][]string // KPI bullet text → targets found, for section 5
}

func readDocument(t *testing.T) document {
	t.Helper()
	f, err := os.Open("../../testdata/document/zero-trust-maturity-model.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := document{levels: map[string][]string{}, kpis: map[string][]string{}}
	section, level, inKPIs := "", "", false
	secRe := regexp.MustCompile(`^(\d\.\d) `)
	lvlRe := regexp.MustCompile(`^Level (\d):`)
	kpiRe := regexp.MustCompile(`^- (.+) \(target: (.+)\)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "5. Success Metrics"):
			inKPIs = true
		case strings.HasPrefix(line, "6. "):
			inKPIs = false
		}
		if m := secRe.FindStringSubmatch(line); m != nil {
			section, level = m[1], ""
			continue
		}
		if m := lvlRe.FindStringSubmatch(line); m != nil {
			level = m[1]
			continue
		}
		if strings.HasPrefix(line, "Automated Service Release Readiness") || strings.HasPrefix(line, "Assessment Criteria") {
			level = ""
			continue
		}
		if inKPIs {
			if m := kpiRe.FindStringSubmatch(line); m != nil {
				d.kpis[m[1]] = append(d.kpis[m[1]], m[2])
			}
			continue
		}
		if level != "" && strings.HasPrefix(line, "- ") {
			key := section + "/" + level
			d.levels[key] = append(d.levels[key], strings.TrimPrefix(line, "- "))
		}
	}
	return d
}

func TestCriteriaAreTheDocumentsVerbatim(t *testing.T) {
	doc := readDocument(t)
	c := Default()
	if got := len(c.Areas()); got != 7 {
		t.Fatalf("areas = %d, want 7", got)
	}
	for _, a := range c.Areas() {
		for _, l := range a.Levels {
			key := a.Section + "/" + strconv.Itoa(l.Number)
			want := doc.levels[key]
			if len(want) != 4 {
				t.Fatalf("document section %s has %d criteria, want 4 (parser broken?)", key, len(want))
			}
			if len(l.Criteria) != len(want) {
				t.Errorf("%s level %d: %d criteria, document has %d", a.ID, l.Number, len(l.Criteria), len(want))
				continue
			}
			for i, cr := range l.Criteria {
				if cr.Text != want[i] {
					t.Errorf("%s: text %q, document says %q", cr.ID, cr.Text, want[i])
				}
				if wantID := string(a.ID) + ".l" + strconv.Itoa(l.Number) + "." + cr.Slug; cr.ID != wantID {
					t.Errorf("criterion id %s, want %s", cr.ID, wantID)
				}
			}
		}
	}
	if _, ok := c.Criterion("identities.l2.mfa"); !ok {
		t.Error("the SPEC's example id identities.l2.mfa is missing")
	}
}

// documentTarget converts the document's target text into (op, base-unit value).
func documentTarget(t *testing.T, s string) (Op, float64) {
	t.Helper()
	units := map[string]float64{"seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600}
	if m := regexp.MustCompile(`^([<>])([\d.]+)\s*(\w+)$`).FindStringSubmatch(s); m != nil && units[m[3]] != 0 {
		v, _ := strconv.ParseFloat(m[2], 64)
		return Op(m[1]), v * units[m[3]]
	}
	if m := regexp.MustCompile(`^([<>])([\d.]+)%$`).FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[2], 64)
		return Op(m[1]), v / 100
	}
	if m := regexp.MustCompile(`^>([\d.]+)/5$`).FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return GT, v
	}
	if m := regexp.MustCompile(`^(\d+)% (reduction|improvement)`).FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return GE, v / 100
	}
	switch s {
	case "daily":
		return GE, 1
	case "multiple times per day":
		return GT, 1
	case "100%":
		return GE, 1
	}
	t.Fatalf("cannot read document target %q", s)
	return "", 0
}

func TestEveryDocumentKPIOnceWithItsTarget(t *testing.T) {
	doc := readDocument(t)
	c := Default()
	entries := 0
	for _, ts := range doc.kpis {
		entries += len(ts)
	}
	if entries != 36 {
		t.Fatalf("document section 5 parsed to %d KPIs, want 36", entries)
	}
	byName := map[string][]KPI{}
	for _, k := range c.KPIs() {
		if k.Origin == Document {
			byName[k.Name] = append(byName[k.Name], k)
		}
	}
	// "Security policy compliance rate" is the wording of two KPIs (infrastructure and service release);
	// the document lists it twice, so count per (name, target).
	for name, targets := range doc.kpis {
		ks := byName[name]
		if len(ks) != len(targets) {
			t.Errorf("%q: document lists it %d times, catalog has %d", name, len(targets), len(ks))
			continue
		}
		for i, tgt := range targets {
			op, v := documentTarget(t, tgt)
			k := ks[i]
			if k.Op != op || math.Abs(k.Target-v) > 1e-9 {
				t.Errorf("%s: target %s %v, document says %q (%s %v)", k.ID, k.Op, k.Target, tgt, op, v)
			}
			if k.DocumentTarget != tgt {
				t.Errorf("%s: DocumentTarget %q, document says %q", k.ID, k.DocumentTarget, tgt)
			}
		}
	}
	documentKPIs := 0
	for _, k := range c.KPIs() {
		if k.Origin == Document {
			documentKPIs++
		}
	}
	if documentKPIs != 36 {
		t.Errorf("catalog has %d document KPIs, want 36", documentKPIs)
	}
	for _, id := range []string{"mfa_coverage", "standing_privileged_accounts", "stale_account_ratio", "open_critical_vulnerabilities"} {
		if k, ok := c.KPI(id); !ok || k.Origin != Indicator {
			t.Errorf("indicator %s missing", id)
		}
	}
}

func TestDocumentKPIsByArea(t *testing.T) {
	c := Default()
	for _, a := range c.Areas() {
		n := 0
		for _, k := range c.KPIsOf(a.ID) {
			if k.Origin == Document {
				n++
			}
		}
		want := 4
		if a.ID == ServiceRelease {
			want = 12
		}
		if n != want {
			t.Errorf("%s: %d document KPIs, want %d", a.ID, n, want)
		}
	}
}

func TestOpHolds(t *testing.T) {
	for _, tc := range []struct {
		op   Op
		v, t float64
		want bool
	}{
		{LT, 1, 2, true}, {LT, 2, 2, false}, {LE, 2, 2, true}, {GT, 2, 2, false}, {GT, 3, 2, true}, {GE, 2, 2, true}, {GE, 1.9, 2, false},
	} {
		if got := tc.op.Holds(tc.v, tc.t); got != tc.want {
			t.Errorf("%v %s %v = %v", tc.v, tc.op, tc.t, got)
		}
	}
}

func TestClosest(t *testing.T) {
	known := Default().KPIIDs()
	if got := Closest("lead_time_for_change", known); got != "lead_time_for_changes" {
		t.Errorf("Closest = %q", got)
	}
	if got := Closest("zzzzzz", known); got != "" {
		t.Errorf("Closest(zzzzzz) = %q, want none", got)
	}
}
