package github

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	since = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	now   = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestDeterministicAndGrowing(t *testing.T) {
	at := now
	clock := func() time.Time { return at }
	a, b := New(DemoOptions(3, since, clock)), New(DemoOptions(3, since, clock))
	paths := []string{"/repos/acme/web-shop/deployments?per_page=100", "/repos/acme/security-ops/issues?state=all&per_page=100",
		"/repos/acme/infra-live/actions/runs?per_page=100", "/repos/acme/reporting/dependabot/alerts?per_page=100"}
	for _, p := range paths {
		x, y := get(t, a, p), get(t, b, p)
		if x.Code != 200 || !bytes.Equal(x.Body.Bytes(), y.Body.Bytes()) {
			t.Errorf("%s: status %d, same bytes for the same seed and clock: %v", p, x.Code, bytes.Equal(x.Body.Bytes(), y.Body.Bytes()))
		}
	}
	before := get(t, a, paths[0]).Body.String()
	at = now.Add(48 * time.Hour)
	after := get(t, a, paths[0]).Body.String()
	var d0, d1 []map[string]any
	_ = json.Unmarshal([]byte(before), &d0)
	_ = json.Unmarshal([]byte(after), &d1)
	if len(d0) == 0 || d1[0]["id"].(float64) <= d0[0]["id"].(float64) {
		t.Error("no new deployments two days later")
	}
	if c := New(DemoOptions(4, since, clock)); get(t, c, paths[0]).Body.String() == after {
		t.Error("another seed gives the same history")
	}
}

func TestETagAndRateLimit(t *testing.T) {
	s := New(Options{Seed: 1, Repos: SyntheticRepos("acme", 3), Since: since, Now: func() time.Time { return now }, RateLimit: 10})
	first := get(t, s, "/repos/acme/svc-0000/deployments")
	etag := first.Header().Get("ETag")
	if first.Code != 200 || etag == "" || first.Header().Get("X-RateLimit-Remaining") != "9" {
		t.Fatalf("first: %d etag %q remaining %s", first.Code, etag, first.Header().Get("X-RateLimit-Remaining"))
	}
	if !strings.Contains(first.Header().Get("Link"), `rel="next"`) {
		t.Error("a long history has no next page link")
	}
	again := get(t, s, "/repos/acme/svc-0000/deployments", "If-None-Match", etag)
	if again.Code != http.StatusNotModified || again.Header().Get("X-RateLimit-Remaining") != "9" {
		t.Errorf("revalidation: %d, remaining %s; want a free 304", again.Code, again.Header().Get("X-RateLimit-Remaining"))
	}
	for range 9 {
		get(t, s, "/repos/acme/svc-0001/deployments")
	}
	if w := get(t, s, "/repos/acme/svc-0001/deployments"); w.Code != http.StatusForbidden || w.Header().Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("exhausted budget: %d remaining %s", w.Code, w.Header().Get("X-RateLimit-Remaining"))
	}
}

func TestComparePagesPast250Commits(t *testing.T) {
	s := New(Options{Seed: 1, Repos: SyntheticRepos("acme", 1), Since: since, Now: func() time.Time { return now }})
	s.mu.Lock()
	s.extend(now)
	r := s.byName["acme/svc-0000"]
	base, head := r.main[0].sha, r.main[300].sha
	s.mu.Unlock()
	var total int
	for p, want := range map[string]int{"1": 250, "2": 50} {
		w := get(t, s, "/repos/acme/svc-0000/compare/"+base+"..."+head+"?page="+p)
		var body struct {
			Status  string `json:"status"`
			AheadBy int    `json:"ahead_by"`
			Commits []any  `json:"commits"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body.Status != "ahead" || body.AheadBy != 300 || len(body.Commits) != want {
			t.Errorf("page %s: %s ahead_by %d with %d commits, want ahead 300 with %d", p, body.Status, body.AheadBy, len(body.Commits), want)
		}
		total += len(body.Commits)
	}
	back := get(t, s, "/repos/acme/svc-0000/compare/"+head+"..."+base)
	if !strings.Contains(back.Body.String(), `"status":"behind"`) {
		t.Error("compare backwards is not behind")
	}
}

func TestSamplesMatchTestdata(t *testing.T) {
	entries, err := samples.ReadDir("samples")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		mine, _ := samples.ReadFile("samples/" + e.Name())
		theirs, err := os.ReadFile(filepath.Join("../../../testdata/github", e.Name()))
		if err != nil || !bytes.Equal(mine, theirs) {
			t.Errorf("%s differs from testdata/github (or is missing there): %v", e.Name(), err)
		}
	}
}
