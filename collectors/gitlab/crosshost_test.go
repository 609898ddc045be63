package gitlab

// The shared cross-host test: one release history told by GitHub and by GitLab, each in its own API's
// shapes, through each host's real collector and the shared DORA engine, must give the same KPI values.
//
// The GitLab side is the fake GitLab replaying a Script, read by this package's collector. The GitHub
// side is a small scripted server in this file speaking go-github's shapes (deployments with statuses,
// compare with ahead/behind status, commits, labelled issues), read by collectors/github. Nothing is
// normalised by hand: a divergence in either collector's reading of SPEC section 3 fails the test.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	ghcollector "github.com/ztmm/ztmm/collectors/github"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
	fake "github.com/ztmm/ztmm/internal/fakes/gitlab"
)

// scenario is the story: commits on a linear main branch, production deployment attempts and incidents.
type scenario struct {
	commits   []time.Time // author times; commit i's parent is commit i-1
	attempts  []attemptSpec
	incidents []fake.ScriptIncident
}

type attemptSpec struct {
	commit int
	at     time.Time // deploy job finished (GitLab) = first terminal status (GitHub)
	status string    // success, failed, canceled
	manual bool
}

func crossScenario(t0 time.Time) scenario {
	h := func(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Hour))) }
	return scenario{
		commits: []time.Time{h(-5), h(0.2), h(3), h(4.5), h(5.5), h(18), h(38)},
		attempts: []attemptSpec{
			{commit: 1, at: h(1), status: "success"},               // first deployment: its head commit only
			{commit: 3, at: h(5), status: "success", manual: true}, // ahead: commits 2, 3
			{commit: 4, at: h(6), status: "failed"},                // a failed attempt: not a deployment
			{commit: 4, at: h(8), status: "success"},               // ahead: commit 4; rolled back next
			{commit: 3, at: h(9), status: "success"},               // behind: a rollback, recovery 1 h
			{commit: 5, at: h(20), status: "success"},              // roll-forward: commits 4, 5 again
			{commit: 5, at: h(30), status: "success"},              // identical redeploy: no changes
			{commit: 6, at: h(31), status: "canceled"},             // not finished: not an attempt
			{commit: 6, at: h(40), status: "success"},              // ahead: commit 6
		},
		incidents: []fake.ScriptIncident{
			// Attributed to the deployment at 20 h: a failed deployment, a security incident.
			{Opened: h(20.5), Closed: h(21), Labels: []string{"pillar:applications", "security"}},
			{Opened: h(45), Labels: []string{"pillar:data"}}, // still open
		},
	}
}

func TestCrossHostSameKPIs(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	since, now := t0.Add(-24*time.Hour), t0.Add(72*time.Hour)
	sc := crossScenario(t0)
	const service = "acme/checkout"

	// GitLab.
	script := &fake.Script{Incidents: sc.incidents}
	for _, c := range sc.commits {
		script.Commits = append(script.Commits, fake.ScriptCommit{Authored: c})
	}
	for _, a := range sc.attempts {
		script.Deployments = append(script.Deployments, fake.ScriptDeployment{Commit: a.commit, Finished: a.at, Status: a.status, Manual: a.manual})
	}
	glFake := fake.New(fake.Options{Projects: []fake.Project{{Path: service, Script: script}}, Start: since, Now: func() time.Time { return now }})
	glSrv := httptest.NewServer(glFake)
	defer glSrv.Close()
	glc, err := New(config.GitLab{BaseURL: glSrv.URL + "/", Projects: []string{service}}, since, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	glc.now = func() time.Time { return now }
	glSnap, err := glc.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// GitHub.
	ghSrv := httptest.NewServer(githubScript(t, sc))
	defer ghSrv.Close()
	ghCfg := config.GitHub{BaseURL: ghSrv.URL + "/", Repositories: []string{service}}
	ghCfg.Token = githubToken(t)
	ghc, err := ghcollector.New(ghCfg, since, nil, nil, nil, ghcollector.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	ghSnap, err := ghc.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	attribution := 7 * 24 * time.Hour
	gl, gh := dora.Analyze(glSnap.DORA, attribution), dora.Analyze(ghSnap.DORA, attribution)
	scopes := map[string]func(string) bool{
		"organization": func(string) bool { return true },
		"service":      func(s string) bool { return s == service },
	}
	for name, in := range scopes {
		for _, k := range dora.KPIs() {
			gv, gok := gl.Value(k, in, since, now)
			hv, hok := gh.Value(k, in, since, now)
			if gok != hok || math.Abs(gv-hv) > 1e-9 {
				t.Errorf("%s %s: GitLab %v (%v), GitHub %v (%v)", name, k, gv, gok, hv, hok)
			}
		}
	}
	for _, p := range []catalog.Area{catalog.Applications, catalog.Data} {
		if g, h := gl.IncidentCount(p, since, now), gh.IncidentCount(p, since, now); g != h || g != 1 {
			t.Errorf("incidents of %s: GitLab %d, GitHub %d, want 1", p, g, h)
		}
	}
	// The scenario must exercise what it claims, or equal values would prove little.
	want := map[string]float64{
		// The rolled-back deployment and the two followed by an incident (the open one at 45 h counts too).
		"change_failure_rate":            3.0 / 7,
		"manual_intervention_rate":       1.0 / 7,
		"automation_success_rate":        7.0 / 8, // the canceled attempt is not finished
		"security_related_rollback_rate": 0,       // the rollback's failed deployment has no incident
	}
	for k, w := range want {
		if v, ok := gl.Value(k, scopes["service"], since, now); !ok || math.Abs(v-w) > 1e-9 {
			t.Errorf("%s = %v (%v), want %v", k, v, ok, w)
		}
	}
}

func githubToken(t *testing.T) config.Secret {
	t.Helper()
	t.Setenv("ZTMM_TEST_CROSSHOST_TOKEN", "crosshost-token")
	c, err := config.Parse([]byte("organization: Acme\nsince: 2026-01-01\ngithub:\n  - token: ${ZTMM_TEST_CROSSHOST_TOKEN}\n    repositories: [acme/checkout]\n"), "crosshost.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c.GitHub[0].Token
}

// githubScript serves the scenario in GitHub's REST shapes (GHES paths under /api/v3).
func githubScript(t *testing.T, sc scenario) http.Handler {
	sha := func(i int) string { return fmt.Sprintf("%040x", i+0xabc) }
	ts := func(x time.Time) string { return x.UTC().Format(time.RFC3339) }
	commitDoc := func(i int) map[string]any {
		return map[string]any{"sha": sha(i), "commit": map[string]any{"author": map[string]any{"name": "dev", "date": ts(sc.commits[i])},
			"committer": map[string]any{"name": "dev", "date": ts(sc.commits[i])}, "message": "change"}}
	}
	index := func(s string) int {
		for i := range sc.commits {
			if sha(i) == s {
				return i
			}
		}
		return -1
	}
	const repo = "/api/v3/repos/acme/checkout"
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET "+repo, func(w http.ResponseWriter, r *http.Request) {
		write(w, 200, map[string]any{"id": 1, "name": "checkout", "full_name": "acme/checkout", "default_branch": "main",
			"archived": false, "owner": map[string]any{"login": "acme"}})
	})
	mux.HandleFunc("GET "+repo+"/deployments", func(w http.ResponseWriter, r *http.Request) {
		var out []any
		for i := len(sc.attempts) - 1; i >= 0; i-- { // newest first, as GitHub lists them
			a := sc.attempts[i]
			creator := "Bot"
			if a.manual {
				creator = "User"
			}
			created := a.at.Add(-3 * time.Minute)
			out = append(out, map[string]any{"id": i + 1, "sha": sha(a.commit), "ref": "main", "environment": "production",
				"created_at": ts(created), "updated_at": ts(a.at), "creator": map[string]any{"login": "deployer", "type": creator}})
		}
		write(w, 200, out)
	})
	mux.HandleFunc("GET "+repo+"/deployments/{id}/statuses", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		a := sc.attempts[id-1]
		state := map[string]string{"success": "success", "failed": "failure", "canceled": "in_progress"}[a.status]
		write(w, 200, []any{
			map[string]any{"id": id*10 + 1, "state": state, "created_at": ts(a.at), "updated_at": ts(a.at)},
			map[string]any{"id": id * 10, "state": "in_progress", "created_at": ts(a.at.Add(-2 * time.Minute)), "updated_at": ts(a.at.Add(-2 * time.Minute))},
		})
	})
	mux.HandleFunc("GET "+repo+"/actions/runs", func(w http.ResponseWriter, r *http.Request) {
		write(w, 200, map[string]any{"total_count": 0, "workflow_runs": []any{}})
	})
	mux.HandleFunc("GET "+repo+"/commits/{sha}", func(w http.ResponseWriter, r *http.Request) {
		if i := index(r.PathValue("sha")); i >= 0 {
			write(w, 200, commitDoc(i))
			return
		}
		write(w, 404, map[string]any{"message": "Not Found"})
	})
	mux.HandleFunc("GET "+repo+"/compare/{spec}", func(w http.ResponseWriter, r *http.Request) {
		base, head, _ := strings.Cut(r.PathValue("spec"), "...")
		a, b := index(base), index(head)
		status, commits := "identical", []any{}
		switch {
		case b > a:
			status = "ahead"
			for i := a + 1; i <= b; i++ {
				commits = append(commits, commitDoc(i))
			}
		case b < a:
			status = "behind"
		}
		write(w, 200, map[string]any{"status": status, "ahead_by": max(b-a, 0), "behind_by": max(a-b, 0),
			"total_commits": len(commits), "commits": commits})
	})
	mux.HandleFunc("GET "+repo+"/rules/branches/main", func(w http.ResponseWriter, r *http.Request) { write(w, 200, []any{}) })
	mux.HandleFunc("GET "+repo+"/branches/main/protection", func(w http.ResponseWriter, r *http.Request) {
		write(w, 404, map[string]any{"message": "Branch not protected"})
	})
	mux.HandleFunc("GET "+repo+"/dependabot/alerts", func(w http.ResponseWriter, r *http.Request) {
		write(w, 403, map[string]any{"message": "Resource not accessible by integration"})
	})
	mux.HandleFunc("GET "+repo+"/issues", func(w http.ResponseWriter, r *http.Request) {
		var out []any
		for i, in := range sc.incidents {
			labels := []any{map[string]any{"name": "incident"}}
			for _, l := range in.Labels {
				labels = append(labels, map[string]any{"name": l})
			}
			doc := map[string]any{"id": 100 + i, "number": i + 1, "title": "Incident", "labels": labels, "state": "open",
				"created_at": ts(in.Opened), "updated_at": ts(in.Opened), "closed_at": nil}
			if !in.Closed.IsZero() {
				doc["state"], doc["closed_at"], doc["updated_at"] = "closed", ts(in.Closed), ts(in.Closed)
			}
			out = append(out, doc)
		}
		write(w, 200, out)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("GitHub script: unexpected request %s %s", r.Method, r.URL)
		write(w, 404, map[string]any{"message": "Not Found"})
	})
	return mux
}
