package github

import (
	"embed"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed samples/*.json
var samples embed.FS

// loadSamples decodes the upstream examples once per server; responses are built by overriding the
// fields that carry the generated organization's data, so every other field keeps GitHub's real shape.
func loadSamples() map[string]any {
	out := map[string]any{}
	entries, _ := samples.ReadDir("samples")
	for _, e := range entries {
		b, err := samples.ReadFile("samples/" + e.Name())
		if err != nil {
			panic(err) // embedded at build time: cannot happen
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			panic("fake github: sample " + e.Name() + ": " + err.Error())
		}
		out[strings.TrimSuffix(e.Name(), ".json")] = v
	}
	return out
}

// item returns a shallow copy of a sample object: the first element of a list sample, or the object under
// key, or the object itself.
func (s *Server) item(sample, key string) map[string]any {
	v := s.tmpl[sample]
	if key != "" {
		v = v.(map[string]any)[key]
	}
	if l, ok := v.([]any); ok {
		v = l[0]
	}
	return clone(v.(map[string]any))
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// set assigns a dotted path, copying nested objects on the way so templates are never modified.
func set(m map[string]any, path string, v any) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		m[head] = v
		return
	}
	child, _ := m[head].(map[string]any)
	child = clone(child)
	m[head] = child
	set(child, rest, v)
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /orgs/{org}/repos", s.listRepos)
	m.HandleFunc("GET /repos/{owner}/{repo}", s.repo(s.getRepo))
	m.HandleFunc("GET /repos/{owner}/{repo}/deployments", s.repo(s.listDeployments))
	m.HandleFunc("GET /repos/{owner}/{repo}/deployments/{id}/statuses", s.repo(s.listStatuses))
	m.HandleFunc("GET /repos/{owner}/{repo}/compare/{basehead}", s.repo(s.compare))
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}", s.repo(s.getCommit))
	m.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", s.repo(s.listRuns))
	m.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}", s.repo(s.getRun))
	m.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}/jobs", s.repo(s.listJobs))
	m.HandleFunc("GET /repos/{owner}/{repo}/issues", s.repo(s.listIssues))
	m.HandleFunc("GET /repos/{owner}/{repo}/branches/{branch}/protection", s.repo(s.protection))
	m.HandleFunc("GET /repos/{owner}/{repo}/rules/branches/{branch}", s.repo(s.rules))
	m.HandleFunc("GET /repos/{owner}/{repo}/dependabot/alerts", s.repo(s.listAlerts))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { failW(w, http.StatusNotFound, "Not Found") })
	s.mux = m
}

type repoHandler func(w http.ResponseWriter, req *http.Request, r *repo, now time.Time)

func (s *Server) repo(h repoHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		full := req.PathValue("owner") + "/" + req.PathValue("repo")
		r := s.byName[full]
		if r == nil || s.deleted[full] {
			failW(w, http.StatusNotFound, "Not Found")
			return
		}
		h(w, req, r, w.(*replyWriter).now)
	}
}

func (s *Server) base(req *http.Request) string { return "http://" + req.Host + "/api/v3" }

func (s *Server) renderRepo(req *http.Request, r *repo) map[string]any {
	o := s.item("list-org-repos", "")
	api := s.base(req) + "/repos/" + r.full()
	o["id"] = r.index + 1000
	o["name"] = r.name
	o["full_name"] = r.full()
	set(o, "owner.login", r.owner)
	o["url"] = api
	o["html_url"] = "https://github.com/" + r.full()
	o["default_branch"] = "main"
	o["archived"] = false
	o["created_at"] = ts(s.start)
	o["updated_at"] = ts(s.start)
	o["pushed_at"] = ts(s.start)
	return o
}

func (s *Server) listRepos(w http.ResponseWriter, req *http.Request) {
	org := req.PathValue("org")
	var vis []*repo
	for _, r := range s.repos {
		if r.owner == org && !s.deleted[r.full()] {
			vis = append(vis, r)
		}
	}
	if vis == nil {
		failW(w, http.StatusNotFound, "Not Found")
		return
	}
	out := []any{}
	for _, r := range page(w, vis, 30, 100) {
		out = append(out, s.renderRepo(req, r))
	}
	reply(w, out)
}

func (s *Server) getRepo(w http.ResponseWriter, req *http.Request, r *repo, _ time.Time) {
	reply(w, s.renderRepo(req, r))
}

func user(login string, manual bool) map[string]any {
	typ := "Bot"
	if manual {
		typ = "User"
	}
	return map[string]any{"login": login, "id": 1, "type": typ, "site_admin": false, "url": "https://api.github.com/users/" + login}
}

func creator(manual bool) map[string]any {
	if manual {
		return user("octocat", true)
	}
	return user("github-actions[bot]", false)
}

// visibleStatuses are d's statuses created by now.
func visibleStatuses(d *deployment, now time.Time) []status {
	var out []status
	for _, st := range d.statuses {
		if !st.at.After(now) {
			out = append(out, st)
		}
	}
	return out
}

func (s *Server) renderDeployment(req *http.Request, r *repo, d *deployment, now time.Time) map[string]any {
	o := s.item("list-deployments", "")
	api := s.base(req) + "/repos/" + r.full()
	o["url"] = api + "/deployments/" + strconv.FormatInt(d.id, 10)
	o["id"] = d.id
	o["sha"] = d.sha
	o["ref"] = "main"
	o["task"] = "deploy"
	o["payload"] = map[string]any{}
	o["environment"] = d.env
	o["original_environment"] = d.env
	o["production_environment"] = d.env == "production"
	o["description"] = "Deploy " + d.sha[:7]
	o["creator"] = creator(d.manual)
	o["created_at"] = ts(d.created)
	updated := d.created
	if st := visibleStatuses(d, now); len(st) > 0 {
		updated = st[len(st)-1].at
	}
	o["updated_at"] = ts(updated)
	o["statuses_url"] = o["url"].(string) + "/statuses"
	o["repository_url"] = api
	return o
}

func (s *Server) listDeployments(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	env := req.URL.Query().Get("environment")
	var vis []*deployment
	for i := len(r.deployments) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		d := r.deployments[i]
		if d.created.After(now) || (env != "" && d.env != env) {
			continue
		}
		vis = append(vis, d)
	}
	out := []any{}
	for _, d := range page(w, vis, 30, 100) {
		out = append(out, s.renderDeployment(req, r, d, now))
	}
	reply(w, out)
}

func (s *Server) findDeployment(r *repo, id int64) *deployment {
	i, ok := slices.BinarySearchFunc(r.deployments, id, func(d *deployment, id int64) int { return int(d.id - id) })
	if !ok {
		return nil
	}
	return r.deployments[i]
}

func (s *Server) listStatuses(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	id, _ := strconv.ParseInt(req.PathValue("id"), 10, 64)
	d := s.findDeployment(r, id)
	if d == nil || d.created.After(now) {
		failW(w, http.StatusNotFound, "Not Found")
		return
	}
	api := s.base(req) + "/repos/" + r.full()
	st := visibleStatuses(d, now)
	out := []any{}
	for i := len(st) - 1; i >= 0; i-- {
		o := s.item("list-deployment-statuses", "")
		o["id"] = st[i].id
		o["url"] = api + "/deployments/" + strconv.FormatInt(d.id, 10) + "/statuses/" + strconv.FormatInt(st[i].id, 10)
		o["state"] = st[i].state
		o["creator"] = creator(d.manual)
		o["environment"] = d.env
		o["description"] = "Deployment " + st[i].state
		o["created_at"] = ts(st[i].at)
		o["updated_at"] = ts(st[i].at)
		o["deployment_url"] = api + "/deployments/" + strconv.FormatInt(d.id, 10)
		o["repository_url"] = api
		out = append(out, o)
	}
	reply(w, page(w, out, 30, 100))
}

func (s *Server) renderCommit(req *http.Request, r *repo, c commit) map[string]any {
	o := s.item("list-commits", "")
	api := s.base(req) + "/repos/" + r.full()
	o["sha"] = c.sha
	o["url"] = api + "/commits/" + c.sha
	o["html_url"] = "https://github.com/" + r.full() + "/commit/" + c.sha
	set(o, "commit.author.date", ts(c.author))
	set(o, "commit.committer.date", ts(c.author))
	set(o, "commit.message", "Change "+c.sha[:7])
	set(o, "commit.tree.sha", c.sha)
	return o
}

// known returns the commit with sha if it exists by now.
func (r *repo) known(sha string, now time.Time) (commit, bool) {
	c, ok := r.bySHA[sha]
	return c, ok && !c.author.After(now)
}

func (s *Server) getCommit(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	c, ok := r.known(req.PathValue("sha"), now)
	if !ok {
		failW(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+req.PathValue("sha"))
		return
	}
	reply(w, s.renderCommit(req, r, c))
}

func (s *Server) compare(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	b, h, ok := strings.Cut(req.PathValue("basehead"), "...")
	base, ok1 := r.known(b, now)
	head, ok2 := r.known(h, now)
	if !ok || !ok1 || !ok2 {
		failW(w, http.StatusNotFound, "Not Found")
		return
	}
	ahead, behind := r.compare(base, head)
	status := "diverged"
	switch {
	case len(ahead) == 0 && behind == 0:
		status = "identical"
	case behind == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	o := clone(s.tmpl["compare-commits"].(map[string]any))
	api := s.base(req) + "/repos/" + r.full()
	o["url"] = api + "/compare/" + b + "..." + h
	o["status"] = status
	o["ahead_by"] = len(ahead)
	o["behind_by"] = behind
	o["total_commits"] = len(ahead)
	o["base_commit"] = s.renderCommit(req, r, base)
	mb := base
	if head.idx < base.idx || base.hotfix {
		mb = r.main[min(base.idx, head.idx)]
	}
	o["merge_base_commit"] = s.renderCommit(req, r, mb)
	// GitHub returns up to 250 commits per page, oldest first, and the files only on the first page.
	pageCommits := page(w, ahead, 250, 250)
	commits := make([]any, len(pageCommits))
	for i, c := range pageCommits {
		commits[i] = s.renderCommit(req, r, c)
	}
	o["commits"] = commits
	o["files"] = []any{}
	reply(w, o)
}

func (s *Server) renderRun(req *http.Request, r *repo, rn *run, now time.Time) map[string]any {
	o := s.item("list-workflow-runs-for-repo", "workflow_runs")
	api := s.base(req) + "/repos/" + r.full()
	o["id"] = rn.id
	o["name"] = rn.name
	o["path"] = rn.path + "@main"
	o["head_branch"] = "main"
	o["head_sha"] = rn.sha
	o["event"] = rn.event
	o["display_title"] = rn.name
	o["run_number"] = rn.id % 10_000_000
	o["workflow_id"] = hash64(rn.path) % 1_000_000
	o["url"] = api + "/actions/runs/" + strconv.FormatInt(rn.id, 10)
	o["jobs_url"] = o["url"].(string) + "/jobs"
	o["created_at"] = ts(rn.created)
	o["run_started_at"] = ts(rn.created)
	if rn.ended.After(now) {
		o["status"], o["conclusion"], o["updated_at"] = "in_progress", nil, ts(rn.created)
	} else {
		o["status"], o["conclusion"], o["updated_at"] = "completed", rn.conclusion, ts(rn.ended)
	}
	return o
}

func (s *Server) listRuns(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	var from time.Time
	if c, ok := strings.CutPrefix(req.URL.Query().Get("created"), ">="); ok {
		from, _ = time.Parse(time.RFC3339, c)
		if from.IsZero() {
			from, _ = time.Parse(time.DateOnly, c)
		}
	}
	var vis []*run
	for i := len(r.runs) - 1; i >= 0; i-- {
		rn := r.runs[i]
		if rn.created.After(now) || rn.created.Before(from) {
			continue
		}
		vis = append(vis, rn)
	}
	runs := []any{}
	for _, rn := range page(w, vis, 30, 100) {
		runs = append(runs, s.renderRun(req, r, rn, now))
	}
	reply(w, map[string]any{"total_count": len(vis), "workflow_runs": runs})
}

func (s *Server) findRun(r *repo, req *http.Request, now time.Time) *run {
	id, _ := strconv.ParseInt(req.PathValue("id"), 10, 64)
	i, ok := slices.BinarySearchFunc(r.runs, id, func(x *run, id int64) int { return int(x.id - id) })
	if !ok || r.runs[i].created.After(now) {
		return nil
	}
	return r.runs[i]
}

func (s *Server) getRun(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	rn := s.findRun(r, req, now)
	if rn == nil {
		failW(w, http.StatusNotFound, "Not Found")
		return
	}
	reply(w, s.renderRun(req, r, rn, now))
}

func (s *Server) listJobs(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	rn := s.findRun(r, req, now)
	if rn == nil {
		failW(w, http.StatusNotFound, "Not Found")
		return
	}
	var out []any
	for _, j := range rn.jobs {
		o := s.item("list-jobs-for-workflow-run", "jobs")
		o["id"] = j.id
		o["run_id"] = rn.id
		o["name"] = j.name
		o["workflow_name"] = rn.name
		o["head_sha"] = rn.sha
		o["head_branch"] = "main"
		o["started_at"] = ts(j.started)
		switch {
		case j.started.After(now):
			o["status"], o["conclusion"], o["completed_at"], o["started_at"] = "queued", nil, nil, nil
		case j.ended.After(now):
			o["status"], o["conclusion"], o["completed_at"] = "in_progress", nil, nil
		default:
			o["status"], o["conclusion"], o["completed_at"] = "completed", j.conclusion, ts(j.ended)
		}
		out = append(out, o)
	}
	if out == nil {
		out = []any{}
	}
	jobs := page(w, out, 30, 100)
	reply(w, map[string]any{"total_count": len(out), "jobs": jobs})
}

func (s *Server) listIssues(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	q := req.URL.Query()
	since, _ := time.Parse(time.RFC3339, q.Get("since"))
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	type vis struct {
		in      *issue
		updated time.Time
		closed  bool
	}
	var xs []vis
	for _, in := range r.issues {
		if in.created.After(now) {
			continue
		}
		v := vis{in: in, updated: in.created, closed: !in.closed.IsZero() && !in.closed.After(now)}
		if v.closed {
			v.updated = in.closed
		}
		if v.updated.Before(since) || (state == "open" && v.closed) || (state == "closed" && !v.closed) {
			continue
		}
		if !containsAll(in.labels, want) {
			continue
		}
		xs = append(xs, v)
	}
	key := func(v vis) time.Time { return v.in.created }
	if q.Get("sort") == "updated" {
		key = func(v vis) time.Time { return v.updated }
	}
	asc := q.Get("direction") == "asc"
	slices.SortStableFunc(xs, func(a, b vis) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = a.in.number - b.in.number
		}
		if asc {
			return c
		}
		return -c
	})
	api := s.base(req) + "/repos/" + r.full()
	out := []any{}
	for _, v := range page(w, xs, 30, 100) {
		in := v.in
		o := s.item("list-repository-issues", "")
		delete(o, "pull_request")
		o["id"] = in.id
		o["number"] = in.number
		o["title"] = in.title
		o["body"] = ""
		o["url"] = api + "/issues/" + strconv.Itoa(in.number)
		o["repository_url"] = api
		labels := make([]any, len(in.labels))
		for i, l := range in.labels {
			labels[i] = map[string]any{"id": hash64(l) % 1e9, "name": l, "color": "d73a4a", "default": false, "description": ""}
		}
		o["labels"] = labels
		o["created_at"] = ts(in.created)
		o["updated_at"] = ts(v.updated)
		o["user"] = user("octocat", true)
		if v.closed {
			o["state"], o["closed_at"], o["state_reason"], o["closed_by"] = "closed", ts(in.closed), in.reason, user("octocat", true)
		} else {
			o["state"], o["closed_at"], o["state_reason"], o["closed_by"] = "open", nil, nil, nil
		}
		out = append(out, o)
	}
	reply(w, out)
}

func containsAll(have, want []string) bool {
	for _, x := range want {
		if !slices.Contains(have, x) {
			return false
		}
	}
	return true
}

func (s *Server) protection(w http.ResponseWriter, req *http.Request, r *repo, _ time.Time) {
	switch r.profile.Protection {
	case "protection", "partial":
	default:
		failW(w, http.StatusNotFound, "Branch not protected")
		return
	}
	o := clone(s.tmpl["get-branch-protection"].(map[string]any))
	set(o, "required_pull_request_reviews.required_approving_review_count", 1)
	set(o, "allow_force_pushes.enabled", false)
	if r.profile.Protection == "partial" {
		delete(o, "required_status_checks")
		set(o, "allow_force_pushes.enabled", true)
	}
	reply(w, o)
}

func (s *Server) rules(w http.ResponseWriter, req *http.Request, r *repo, _ time.Time) {
	rule := func(typ string, params any) map[string]any {
		o := s.item("get-rules-for-branch", "")
		o["type"] = typ
		o["ruleset_source_type"] = "Organization"
		o["ruleset_source"] = r.owner
		if params == nil {
			delete(o, "parameters")
		} else {
			o["parameters"] = params
		}
		return o
	}
	out := []any{}
	if r.profile.Protection == "rules" {
		out = append(out,
			rule("pull_request", map[string]any{"required_approving_review_count": 1, "dismiss_stale_reviews_on_push": true,
				"require_code_owner_review": false, "require_last_push_approval": false, "required_review_thread_resolution": false}),
			rule("required_status_checks", map[string]any{"required_status_checks": []any{map[string]any{"context": "ci/build"}},
				"strict_required_status_checks_policy": true}),
			rule("non_fast_forward", nil))
	} else {
		for _, v := range s.tmpl["get-rules-for-branch"].([]any) {
			out = append(out, v)
		}
	}
	reply(w, out)
}

// listAlerts pages with GitHub's cursors (after=), the way the Dependabot alerts API does.
func (s *Server) listAlerts(w http.ResponseWriter, req *http.Request, r *repo, now time.Time) {
	if s.opts.SecurityForbidden {
		failW(w, http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	q := req.URL.Query()
	type vis struct {
		a       *alert
		updated time.Time
		fixed   bool
	}
	var xs []vis
	for _, a := range r.alerts {
		if a.created.After(now) {
			continue
		}
		v := vis{a: a, updated: a.created, fixed: !a.fixed.IsZero() && !a.fixed.After(now)}
		if v.fixed {
			v.updated = a.fixed
		}
		xs = append(xs, v)
	}
	key := func(v vis) time.Time { return v.a.created }
	if q.Get("sort") == "updated" {
		key = func(v vis) time.Time { return v.updated }
	}
	slices.SortStableFunc(xs, func(a, b vis) int {
		if c := key(b).Compare(key(a)); c != 0 {
			return c
		}
		return b.a.number - a.a.number
	})
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	from, _ := strconv.Atoi(strings.TrimPrefix(q.Get("after"), "c"))
	from = min(max(from, 0), len(xs))
	to := min(from+per, len(xs))
	if to < len(xs) {
		u := *req.URL
		qq := u.Query()
		qq.Set("after", "c"+strconv.Itoa(to))
		u.RawQuery = qq.Encode()
		w.Header().Set("Link", `<http://`+req.Host+u.RequestURI()+`>; rel="next"`)
	}
	api := s.base(req) + "/repos/" + r.full()
	out := []any{}
	for _, v := range xs[from:to] {
		o := s.item("list-dependabot-alerts-for-repo", "")
		o["number"] = v.a.number
		o["url"] = api + "/dependabot/alerts/" + strconv.Itoa(v.a.number)
		set(o, "security_advisory.severity", v.a.severity)
		set(o, "security_vulnerability.severity", v.a.severity)
		o["created_at"] = ts(v.a.created)
		o["updated_at"] = ts(v.updated)
		o["dismissed_at"], o["dismissed_by"], o["dismissed_reason"], o["dismissed_comment"] = nil, nil, nil, nil
		if v.fixed {
			o["state"], o["fixed_at"] = "fixed", ts(v.a.fixed)
		} else {
			o["state"], o["fixed_at"] = "open", nil
		}
		out = append(out, o)
	}
	reply(w, out)
}
