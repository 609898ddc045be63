package github

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
)

// sample returns the first object of a GitHub example payload in testdata/github, to be overridden.
func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../testdata/github/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if l, ok := v.([]any); ok {
		v = l[0]
	}
	return v.(map[string]any)
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestDeploymentNormalisation checks SPEC section 3's GitHub rules on the real payload shapes: the first
// success status dates a deployment, a later inactive does not undo it, failures are attempts and not
// deployments, the first terminal status decides the attempt, a User creator is manual, and only
// environments matching the production pattern count.
func TestDeploymentNormalisation(t *testing.T) {
	t0 := time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC)
	at := func(m int) string { return t0.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
	const shaA, shaB, shaC = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccccccccccc"
	dep, st := sample(t, "list-deployments"), sample(t, "list-deployment-statuses")
	bot := map[string]any{"login": "github-actions[bot]", "type": "Bot"}
	human := map[string]any{"login": "octocat", "type": "User"}
	deployments := []any{ // newest first
		with(dep, "id", 4, "sha", shaB, "environment", "Production", "creator", human, "created_at", at(60)),
		with(dep, "id", 3, "sha", shaC, "environment", "staging", "creator", bot, "created_at", at(40)),
		with(dep, "id", 2, "sha", shaB, "environment", "production", "creator", bot, "created_at", at(20)),
		with(dep, "id", 1, "sha", shaA, "environment", "prod", "creator", bot, "created_at", at(0)),
	}
	statuses := map[string][]any{ // newest first
		"1": {with(st, "state", "inactive", "created_at", at(70)), with(st, "state", "success", "created_at", at(5)), with(st, "state", "in_progress", "created_at", at(1))},
		"2": {with(st, "state", "failure", "created_at", at(25))},
		"3": {with(st, "state", "success", "created_at", at(45))},
		"4": {with(st, "state", "success", "created_at", at(70)), with(st, "state", "error", "created_at", at(65))},
	}
	commit := func(sha string, m int) map[string]any {
		c := sample(t, "list-commits")
		inner := with(c["commit"].(map[string]any), "author", map[string]any{"name": "Mona", "email": "mona@example.com", "date": at(m)})
		return with(c, "sha", sha, "commit", inner)
	}
	cmp := with(sample(t, "compare-commits"), "status", "ahead", "ahead_by", 2, "behind_by", 0, "total_commits", 2,
		"commits", []any{commit("1111111111111111111111111111111111111111", -30), commit(shaB, -10)})
	repo := with(sample(t, "list-org-repos"), "full_name", "octocat/example", "name", "example", "default_branch", "main", "archived", false)
	routes := map[string]any{
		"/api/v3/repos/octocat/example":                                repo,
		"/api/v3/repos/octocat/example/deployments":                    deployments,
		"/api/v3/repos/octocat/example/compare/" + shaA + "..." + shaB: cmp,
		"/api/v3/repos/octocat/example/commits/" + shaA:                commit(shaA, -60),
		"/api/v3/repos/octocat/example/actions/runs":                   map[string]any{"total_count": 0, "workflow_runs": []any{}},
		"/api/v3/repos/octocat/example/issues":                         []any{},
		"/api/v3/repos/octocat/example/dependabot/alerts":              []any{},
		"/api/v3/repos/octocat/example/rules/branches/main":            []any{},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := routes[r.URL.Path]
		if id, found := strings.CutPrefix(r.URL.Path, "/api/v3/repos/octocat/example/deployments/"); found {
			v, ok = statuses[strings.TrimSuffix(id, "/statuses")]
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not Found"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}))
	defer srv.Close()

	cfg := config.GitHub{Name: "gh", BaseURL: srv.URL + "/", Repositories: []string{"octocat/example"}}
	cfg.Token = secret(t, "tok")
	c, err := New(cfg, t0.Add(-time.Hour), nil, nil, nil, WithClock(func() time.Time { return t0.Add(48 * time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantDeps := []dora.Deployment{
		{Service: "octocat/example", ID: "1", SHA: shaA, Time: t0.Add(5 * time.Minute), Status: dora.First,
			Changes: []dora.Change{{SHA: shaA, AuthorTime: t0.Add(-time.Hour)}}},
		{Service: "octocat/example", ID: "4", SHA: shaB, Time: t0.Add(70 * time.Minute), Manual: true, Status: dora.Ahead,
			Changes: []dora.Change{{SHA: "1111111111111111111111111111111111111111", AuthorTime: t0.Add(-30 * time.Minute)}, {SHA: shaB, AuthorTime: t0.Add(-10 * time.Minute)}}},
	}
	if got, _ := json.Marshal(snap.DORA.Deployments); string(got) != string(must(json.Marshal(wantDeps))) {
		t.Errorf("deployments\n got %s\nwant %s", got, must(json.Marshal(wantDeps)))
	}
	wantAttempts := []dora.Attempt{
		{Service: "octocat/example", Time: t0.Add(5 * time.Minute), Success: true},
		{Service: "octocat/example", Time: t0.Add(25 * time.Minute), Success: false},
		{Service: "octocat/example", Time: t0.Add(65 * time.Minute), Success: false, Manual: true},
	}
	if got, _ := json.Marshal(snap.DORA.Attempts); string(got) != string(must(json.Marshal(wantAttempts))) {
		t.Errorf("attempts\n got %s\nwant %s", got, must(json.Marshal(wantAttempts)))
	}
	// No rules and an unprotected branch: not compliant.
	if len(snap.Counts) == 0 || snap.Counts[0].KPI != "security_policy_compliance_rate" || snap.Counts[0].Numerator != 0 {
		t.Errorf("counts %+v, want a non-compliant service", snap.Counts)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
