package gitlab

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	testNow   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testStart = testNow.Add(-10 * 24 * time.Hour)
)

func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Projects == nil {
		opts.Projects = DemoProjects()
	}
	if opts.Start.IsZero() {
		opts.Start = testStart
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestShapes checks that every field of each upstream sample (testdata/gitlab, GitLab's documented
// examples) is in the fake's answer with the same JSON type, so collectors tested against the fake read
// GitLab's real shapes.
func TestShapes(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{})
	tests := []struct {
		sample, path string
		// optional are sample fields the fake leaves out, each with its reason.
		optional []string
	}{
		{"list-project-deployments.json", "/api/v4/projects/mobile%2Fios-app/deployments", nil},
		{"list-pipeline-jobs.json", "/api/v4/projects/mobile%2Fios-app/jobs",
			[]string{"artifacts", "artifacts_expire_at", "artifacts_file", "failure_reason", "tag_list", "archived", "erased_at"}},
		{"list-project-pipelines.json", "/api/v4/projects/logistics%2Fiac/pipelines", nil},
		{"get-pipeline.json", "/api/v4/projects/logistics%2Fiac/pipelines/{pipeline}", []string{"detailed_status", "yaml_errors"}},
		{"list-group-projects.json", "/api/v4/groups/mobile/projects",
			[]string{"wiki_enabled", "snippets_enabled", "shared_runners_enabled", "creator_id", "avatar_url", "public_jobs", "shared_with_groups", "request_access_enabled"}},
		{"list-project-issues.json", "/api/v4/projects/mobile%2Fios-app/issues",
			[]string{"milestone", "assignee", "closed_by", "due_date", "time_stats", "has_tasks", "task_status", "_links", "merge_requests_count", "subscribed", "epic_iid", "epic", "weight"}},
		{"list-project-vulnerabilities.json", "/api/v4/projects/mobile%2Fios-app/vulnerabilities",
			[]string{"finding.created_at", "finding.location_fingerprint", "finding.metadata_version", "finding.primary_identifier_id",
				"finding.raw_metadata", "finding.scanner_id", "finding.updated_at", "finding.uuid", "project.created_at", "project.description"}},
		{"dora-metrics-project.json", "/api/v4/projects/mobile%2Fios-app/dora/metrics?metric=deployment_frequency&interval=all", nil},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "gitlab", tt.sample))
			if err != nil {
				t.Fatal(err)
			}
			var sample any
			if err := json.Unmarshal(raw, &sample); err != nil {
				t.Fatal(err)
			}
			path := tt.path
			if strings.Contains(path, "{pipeline}") {
				_, b := get(t, base+"/api/v4/projects/logistics%2Fiac/pipelines?per_page=1")
				var ps []map[string]any
				json.Unmarshal(b, &ps)
				path = strings.Replace(path, "{pipeline}", fmt.Sprintf("%.0f", ps[0]["id"]), 1)
			}
			resp, b := get(t, base+path)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
			}
			var got any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			var missing []string
			compareShape("", first(sample), first(got), &missing)
			missing = slices.DeleteFunc(missing, func(m string) bool { return slices.Contains(tt.optional, m) })
			if len(missing) > 0 {
				sort.Strings(missing)
				t.Errorf("the fake's %s lacks or mistypes fields of the upstream sample: %v", path, missing)
			}
		})
	}
}

func first(v any) any {
	if a, ok := v.([]any); ok && len(a) > 0 {
		return a[0]
	}
	return v
}

// compareShape records sample fields absent from got or of another JSON type (null matches anything:
// the samples and the fake both leave unknown values null).
func compareShape(prefix string, sample, got any, missing *[]string) {
	sm, ok := sample.(map[string]any)
	if !ok {
		return
	}
	gm, ok := got.(map[string]any)
	if !ok {
		*missing = append(*missing, strings.TrimSuffix(prefix, "."))
		return
	}
	for k, sv := range sm {
		gv, present := gm[k]
		name := prefix + k
		switch {
		case !present:
			*missing = append(*missing, name)
		case sv == nil || gv == nil, isEmptySlice(sv) || isEmptySlice(gv):
		case fmt.Sprintf("%T", first(sv)) != fmt.Sprintf("%T", first(gv)):
			*missing = append(*missing, name+" (type)")
		default:
			compareShape(name+".", first(sv), first(gv), missing)
		}
	}
}

func isEmptySlice(v any) bool {
	a, ok := v.([]any)
	return ok && len(a) == 0
}

func TestDeterministicAndGrowing(t *testing.T) {
	t.Parallel()
	now := testNow
	clock := func() time.Time { return now }
	_, a := start(t, Options{Seed: 3, Now: clock})
	_, b := start(t, Options{Seed: 3, Now: func() time.Time { return testNow }})
	_, c := start(t, Options{Seed: 4, Now: func() time.Time { return testNow }})
	const p = "/api/v4/projects/logistics%2Fshipping/deployments?per_page=100&sort=asc"
	_, ba := get(t, a+p)
	_, bb := get(t, b+p)
	_, bc := get(t, c+p)
	if string(ba) != string(bb) {
		t.Error("same seed and clock, different histories")
	}
	if string(ba) == string(bc) {
		t.Error("different seeds, same history")
	}
	resp, _ := get(t, a+p)
	before, _ := strconv.Atoi(resp.Header.Get("X-Total"))
	now = now.Add(48 * time.Hour)
	resp, _ = get(t, a+p)
	if after, _ := strconv.Atoi(resp.Header.Get("X-Total")); after <= before {
		t.Errorf("deployments total %d → %d after two days: history must keep growing", before, after)
	}
}

func TestFaultsAndBudget(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{RateLimit: 3})
	s.Inject(Fault{Path: "/issues", Status: 503, Times: 1})
	resp, _ := get(t, base+"/api/v4/projects/mobile%2Fios-app/issues")
	if resp.StatusCode != 503 {
		t.Errorf("injected fault: status %d", resp.StatusCode)
	}
	resp, _ = get(t, base+"/api/v4/projects/mobile%2Fios-app/issues")
	if resp.StatusCode != 200 || resp.Header.Get("RateLimit-Remaining") != "1" {
		t.Errorf("after a one-shot fault: status %d, remaining %s", resp.StatusCode, resp.Header.Get("RateLimit-Remaining"))
	}
	get(t, base+"/api/v4/projects/mobile%2Fios-app")
	resp, _ = get(t, base+"/api/v4/projects/mobile%2Fios-app")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Errorf("over budget: status %d, Retry-After %q, want 429 and 60 (until the minute's end)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestFreeTierForbidsUltimateEndpoints(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Free: true})
	for _, p := range []string{"dora/metrics?metric=deployment_frequency", "vulnerabilities", "approval_rules"} {
		if resp, _ := get(t, base+"/api/v4/projects/mobile%2Fios-app/"+p); resp.StatusCode != 403 {
			t.Errorf("%s on Free: %d, want 403", p, resp.StatusCode)
		}
	}
	if resp, _ := get(t, base+"/api/v4/projects/mobile%2Fios-app/deployments"); resp.StatusCode != 200 {
		t.Errorf("deployments on Free: %d", resp.StatusCode)
	}
}
