package gitlab

import (
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const host = "https://gitlab.example.com"

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func (h *history) projectJSON() map[string]any {
	p := h.project
	ns := path.Dir(p.Path)
	return map[string]any{
		"id": h.id(), "description": "", "default_branch": "main", "tag_list": []string{}, "topics": []string{},
		"archived": p.Archived, "visibility": "internal",
		"ssh_url_to_repo":  "git@gitlab.example.com:" + p.Path + ".git",
		"http_url_to_repo": host + "/" + p.Path + ".git", "web_url": host + "/" + p.Path,
		"name": path.Base(p.Path), "name_with_namespace": strings.ReplaceAll(p.Path, "/", " / "),
		"path": path.Base(p.Path), "path_with_namespace": p.Path,
		"issues_enabled": true, "merge_requests_enabled": true, "jobs_enabled": true,
		"created_at": ts(h.commits[0].authored), "last_activity_at": ts(h.generatedTo.Add(-time.Hour)),
		"namespace":                             map[string]any{"id": 100 + h.index, "name": ns, "path": path.Base(ns), "kind": "group", "full_path": ns},
		"only_allow_merge_if_pipeline_succeeds": !p.Policy.PipelineMustNotSucceed,
		"open_issues_count":                     0, "star_count": 0, "forks_count": 0,
	}
}

func (h *history) environmentJSON(e *environment) map[string]any {
	return map[string]any{"id": e.id, "name": e.name, "slug": e.name, "external_url": host + "/" + e.name,
		"state": "available", "tier": e.tier, "created_at": ts(h.commits[0].authored), "updated_at": ts(h.commits[0].authored)}
}

func user() map[string]any {
	return map[string]any{"id": 1, "name": "Administrator", "username": "root", "state": "active",
		"avatar_url": nil, "web_url": host + "/root"}
}

// jobUser is the fuller user entity of job payloads.
func jobUser() map[string]any {
	return map[string]any{"id": 1, "name": "Administrator", "username": "root", "state": "active",
		"avatar_url": nil, "web_url": host + "/root", "created_at": "2015-12-21T13:14:24.077Z", "bio": nil,
		"location": nil, "public_email": "", "skype": "", "linkedin": "", "twitter": "", "website_url": "", "organization": ""}
}

func (h *history) commitJSON(c commit) map[string]any {
	parents := []string{}
	if c.n > 0 {
		parents = append(parents, h.commits[c.n-1].sha)
	}
	return map[string]any{"id": c.sha, "short_id": c.sha[:8], "title": c.title, "message": c.title,
		"author_name": "Administrator", "author_email": "admin@example.com", "authored_date": ts(c.authored),
		"committer_name": "Administrator", "committer_email": "admin@example.com", "committed_date": ts(c.authored),
		"created_at": ts(c.authored), "parent_ids": parents}
}

// jobStatus is a job's status as seen at now: jobs move created → running → final.
func jobStatus(j *job, now time.Time) (status string, finished time.Time) {
	switch {
	case now.Before(j.started):
		if j.manual {
			return "manual", time.Time{}
		}
		return "created", time.Time{}
	case now.Before(j.finished):
		return "running", time.Time{}
	}
	return j.status, j.finished
}

func (h *history) jobJSON(j *job, now time.Time) map[string]any {
	status, finished := jobStatus(j, now)
	c := h.commits[h.bySHA[j.sha]]
	var dur any
	if !finished.IsZero() {
		dur = finished.Sub(j.started).Seconds()
	}
	return map[string]any{
		"commit": h.commitJSON(c), "coverage": nil, "allow_failure": false,
		"created_at": ts(j.created), "started_at": ts(j.started), "finished_at": ts(finished),
		"duration": dur, "queued_duration": 1.5, "id": j.id, "name": j.name,
		"pipeline": map[string]any{"id": j.pipelineID, "project_id": h.id(), "ref": "main", "sha": j.sha, "status": status},
		"ref":      "main", "stage": j.stage, "status": status, "tag": false, "runner": nil,
		"web_url": host + "/" + h.project.Path + "/-/jobs/" + itoa(j.id), "user": jobUser(),
		"project": map[string]any{"ci_job_token_scope_enabled": false},
	}
}

func (h *history) deploymentJSON(d *deployment, now time.Time) map[string]any {
	status, _ := jobStatus(d.job, now)
	depStatus := status
	if status == "manual" {
		depStatus = "blocked" // a deployment waiting for its manual job
	}
	updated := depUpdated(d, now)
	dj := h.jobJSON(d.job, now)
	dj["pipeline"] = map[string]any{"created_at": ts(d.job.created), "id": d.job.pipelineID, "ref": "main",
		"sha": d.sha, "status": status, "updated_at": ts(updated), "web_url": host + "/" + h.project.Path + "/pipelines/" + itoa(d.job.pipelineID)}
	return map[string]any{
		"created_at": ts(d.created), "updated_at": ts(updated), "status": depStatus, "deployable": dj,
		"environment": map[string]any{"external_url": host + "/" + d.env.name, "id": d.env.id, "name": d.env.name},
		"id":          d.id, "iid": d.iid, "ref": "main", "sha": d.sha, "user": user(),
	}
}

// depUpdated is a deployment's updated_at. GitLab updates the deployment a little after its job
// finishes (the upstream sample shows 93 s), which is why the job's finished_at is the deployment time.
func depUpdated(d *deployment, now time.Time) time.Time {
	if _, finished := jobStatus(d.job, now); !finished.IsZero() && !now.Before(finished.Add(deploymentLag)) {
		return finished.Add(deploymentLag)
	}
	return d.created
}

const deploymentLag = 93 * time.Second

func (s *Server) deployments(w http.ResponseWriter, r *http.Request, h *history, now time.Time) {
	q := r.URL.Query()
	type row struct {
		d       *deployment
		updated time.Time
		doc     map[string]any
	}
	var rows []row
	ua, hasUA := timeParam(q, "updated_after")
	ub, hasUB := timeParam(q, "updated_before")
	fa, hasFA := timeParam(q, "finished_after")
	for _, d := range h.deployments {
		if d.created.After(now) {
			continue
		}
		doc := h.deploymentJSON(d, now)
		_, finished := jobStatus(d.job, now)
		updated := depUpdated(d, now)
		switch {
		case q.Get("status") != "" && doc["status"] != q.Get("status"),
			q.Get("environment") != "" && d.env.name != q.Get("environment"),
			hasUA && !updated.After(ua), hasUB && !updated.Before(ub),
			hasFA && (finished.IsZero() || !finished.After(fa)):
			continue
		}
		rows = append(rows, row{d, updated, doc})
	}
	key := func(x row) time.Time { return x.d.created }
	if ob := q.Get("order_by"); ob == "updated_at" || ob == "finished_at" {
		key = func(x row) time.Time { return x.updated }
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := key(rows[i]), key(rows[j])
		if !a.Equal(b) {
			return a.Before(b)
		}
		return rows[i].d.id < rows[j].d.id
	})
	if q.Get("sort") == "desc" {
		slices.Reverse(rows)
	}
	out := make([]any, len(rows))
	for i, x := range rows {
		out[i] = x.doc
	}
	page(w, r, out, nil, s.opts.MaxPerPage)
}

// compare answers on the generated history's linear default branch: the commits reachable from `to` but
// not from `from`, oldest first, as GitLab's compare (from...to) lists them.
func (h *history) compare(w http.ResponseWriter, from, to string) {
	a, okA := h.bySHA[from]
	b, okB := h.bySHA[to]
	if !okA || !okB {
		writeError(w, http.StatusNotFound, "404 Ref Not Found")
		return
	}
	commits := []any{}
	for n := a + 1; n <= b; n++ {
		commits = append(commits, h.commitJSON(h.commits[n]))
	}
	var last any
	if len(commits) > 0 {
		last = commits[len(commits)-1]
	}
	writeJSON(w, map[string]any{"commit": last, "commits": commits, "diffs": []any{}, "compare_timeout": false,
		"compare_same_ref": from == to, "web_url": host + "/" + h.project.Path + "/-/compare/" + from[:8] + "..." + to[:8]})
}

func (h *history) issueJSON(i *issue, now time.Time) (map[string]any, time.Time) {
	state, closed, updated := "opened", time.Time{}, i.created
	if !i.closed.IsZero() && !i.closed.After(now) {
		state, closed, updated = "closed", i.closed, i.closed
	}
	return map[string]any{
		"id": i.id, "iid": i.iid, "project_id": h.id(), "title": i.title, "description": "", "state": state,
		"created_at": ts(i.created), "updated_at": ts(updated), "closed_at": ts(closed), "labels": i.labels,
		"issue_type": i.typ, "type": strings.ToUpper(i.typ), "author": user(), "assignees": []any{},
		"upvotes": 0, "downvotes": 0, "task_completion_status": map[string]any{"count": 0, "completed_count": 0}, "confidential": false, "discussion_locked": false, "user_notes_count": 0,
		"web_url":    host + "/" + h.project.Path + "/-/issues/" + itoa(i.iid),
		"references": map[string]any{"short": "#" + itoa(i.iid), "relative": "#" + itoa(i.iid), "full": h.project.Path + "#" + itoa(i.iid)},
	}, updated
}

func (s *Server) issues(w http.ResponseWriter, r *http.Request, h *history, now time.Time) {
	q := r.URL.Query()
	ua, hasUA := timeParam(q, "updated_after")
	type row struct {
		updated time.Time
		id      int64
		doc     map[string]any
	}
	var rows []row
	for _, i := range h.issues {
		if i.created.After(now) {
			continue
		}
		doc, updated := h.issueJSON(i, now)
		if t := q.Get("issue_type"); t != "" && t != i.typ {
			continue
		}
		if st := q.Get("state"); st != "" && st != "all" && st != doc["state"] {
			continue
		}
		if hasUA && !updated.After(ua) {
			continue
		}
		if l := q.Get("labels"); l != "" && !hasAll(i.labels, strings.Split(l, ",")) {
			continue
		}
		rows = append(rows, row{updated, i.id, doc})
	}
	byUpdated := q.Get("order_by") == "updated_at"
	sort.SliceStable(rows, func(a, b int) bool {
		if byUpdated && !rows[a].updated.Equal(rows[b].updated) {
			return rows[a].updated.Before(rows[b].updated)
		}
		return rows[a].id < rows[b].id
	})
	// GitLab's default order is newest first.
	if q.Get("sort") != "asc" {
		slices.Reverse(rows)
	}
	out := make([]any, len(rows))
	for i, x := range rows {
		out[i] = x.doc
	}
	page(w, r, out, nil, s.opts.MaxPerPage)
}

func hasAll(have, want []string) bool {
	for _, x := range want {
		if !slices.Contains(have, x) {
			return false
		}
	}
	return true
}

// jobs lists jobs newest first (GitLab's order), filtered by scope[]; keyset pagination by id.
func (s *Server) jobs(w http.ResponseWriter, r *http.Request, h *history, now time.Time) {
	scopes := r.URL.Query()["scope[]"]
	var out []any
	ids := []int64{} // non-nil: this endpoint offers keyset pagination
	for i := len(h.jobs) - 1; i >= 0; i-- {
		j := h.jobs[i]
		if j.created.After(now) {
			continue
		}
		st, _ := jobStatus(j, now)
		if len(scopes) > 0 && !slices.Contains(scopes, st) {
			continue
		}
		out = append(out, h.jobJSON(j, now))
		ids = append(ids, j.id)
	}
	page(w, r, out, ids, s.opts.MaxPerPage)
}

func (h *history) pipelineJSON(p *pipeline, now time.Time, full bool) map[string]any {
	status, updated := "running", p.created
	var finished time.Time
	if !now.Before(p.finished) {
		status, updated, finished = p.status, p.finished, p.finished
	}
	doc := map[string]any{"id": p.id, "iid": p.id % 1_000_000, "project_id": h.id(), "status": status, "source": "push",
		"ref": "main", "sha": p.sha, "name": p.name, "web_url": host + "/" + h.project.Path + "/-/pipelines/" + itoa(p.id),
		"created_at": ts(p.created), "updated_at": ts(updated)}
	if full {
		var dur any
		if !finished.IsZero() {
			dur = int(finished.Sub(p.created).Seconds())
		}
		doc["before_sha"] = p.sha
		doc["tag"] = false
		doc["user"] = user()
		doc["started_at"] = ts(p.created)
		doc["finished_at"] = ts(finished)
		doc["committed_at"] = nil
		doc["duration"] = dur
		doc["queued_duration"] = 6
		doc["coverage"] = nil
	}
	return doc
}

func (s *Server) pipelines(w http.ResponseWriter, r *http.Request, h *history, now time.Time) {
	q := r.URL.Query()
	ua, hasUA := timeParam(q, "updated_after")
	var out []any
	for i := len(h.pipelines) - 1; i >= 0; i-- {
		p := h.pipelines[i]
		if p.created.After(now) {
			continue
		}
		doc := h.pipelineJSON(p, now, false)
		upd := p.created
		if !now.Before(p.finished) {
			upd = p.finished
		}
		if hasUA && !upd.After(ua) {
			continue
		}
		if n := q.Get("name"); n != "" && n != p.name {
			continue
		}
		if st := q.Get("status"); st != "" && st != doc["status"] {
			continue
		}
		if q.Get("scope") == "finished" && doc["status"] == "running" {
			continue
		}
		out = append(out, doc)
	}
	page(w, r, out, nil, s.opts.MaxPerPage)
}

func (h *history) protectedBranchJSON() map[string]any {
	lvl := []any{map[string]any{"id": 1, "access_level": 40, "access_level_description": "Maintainers", "user_id": nil, "group_id": nil}}
	return map[string]any{"id": h.id(), "name": "main", "push_access_levels": lvl, "merge_access_levels": lvl,
		"unprotect_access_levels": []any{}, "allow_force_push": h.project.Policy.AllowForcePush, "code_owner_approval_required": false}
}

func (h *history) approvalRulesJSON() []any {
	n := h.project.Policy.ApprovalsRequired
	if n == 0 {
		return []any{}
	}
	return []any{map[string]any{"id": h.id(), "name": "All Members", "rule_type": "any_approver", "eligible_approvers": []any{},
		"approvals_required": n, "users": []any{}, "groups": []any{}, "contains_hidden_groups": false,
		"protected_branches": []any{}, "applies_to_all_protected_branches": true}}
}

func (h *history) vulnerabilityJSON(v *vulnerability, now time.Time) map[string]any {
	state, resolved, updated := "detected", time.Time{}, v.created
	if !v.resolved.IsZero() && !v.resolved.After(now) {
		state, resolved, updated = "resolved", v.resolved, v.resolved
	}
	return map[string]any{
		"author_id": 1, "confidence": "medium", "created_at": ts(v.created), "description": nil, "dismissed_at": nil,
		"dismissed_by_id": nil, "id": v.id, "project_default_branch": "main", "report_type": "dependency_scanning",
		"resolved_at": ts(resolved), "resolved_by_id": nil, "resolved_on_default_branch": state == "resolved",
		"severity": v.severity, "state": state, "title": v.title, "updated_at": ts(updated),
		"project": map[string]any{"id": h.id(), "name": path.Base(h.project.Path), "path": path.Base(h.project.Path),
			"path_with_namespace": h.project.Path, "name_with_namespace": strings.ReplaceAll(h.project.Path, "/", " / ")},
		"finding": map[string]any{"id": v.id, "name": v.title, "severity": v.severity, "confidence": "medium",
			"report_type": "dependency_scanning", "project_id": h.id(), "vulnerability_id": v.id},
	}
}

// dora computes GitLab's own DORA metrics from the generated history, roughly as GitLab does (its own
// definitions differ from ztmm's in places, which is why they are exposed separately).
func (s *Server) dora(w http.ResponseWriter, r *http.Request, h *history, now time.Time) {
	q := r.URL.Query()
	end := now
	if t, err := time.Parse("2006-01-02", q.Get("end_date")); err == nil {
		end = t.Add(24 * time.Hour)
	}
	start := end.Add(-90 * 24 * time.Hour)
	if t, err := time.Parse("2006-01-02", q.Get("start_date")); err == nil {
		start = t
	}
	var deploys, incidents float64
	var leads, restores []float64
	prev := -1
	for _, d := range h.deployments {
		_, fin := jobStatus(d.job, now)
		if d.env.tier != "production" || d.status != "success" || fin.IsZero() || fin.Before(start) || !fin.Before(end) {
			if d.env.tier == "production" && d.status == "success" && !fin.IsZero() {
				prev = h.bySHA[d.sha]
			}
			continue
		}
		deploys++
		n := h.bySHA[d.sha]
		for c := prev + 1; c <= n; c++ {
			leads = append(leads, fin.Sub(h.commits[c].authored).Seconds())
		}
		prev = max(prev, n)
	}
	for _, i := range h.issues {
		if i.typ != "incident" || i.created.Before(start) || !i.created.Before(end) || i.created.After(now) {
			continue
		}
		incidents++
		if !i.closed.IsZero() && !i.closed.After(now) {
			restores = append(restores, i.closed.Sub(i.created).Seconds())
		}
	}
	days := max(1, end.Sub(start).Hours()/24)
	var v any
	switch q.Get("metric") {
	case "deployment_frequency":
		v = deploys / days
	case "lead_time_for_changes":
		v = medianOrNil(leads)
	case "time_to_restore_service":
		v = medianOrNil(restores)
	case "change_failure_rate":
		if deploys > 0 {
			v = incidents / deploys
		}
	default:
		writeError(w, http.StatusBadRequest, "400 Bad request - metric is invalid")
		return
	}
	writeJSON(w, []any{map[string]any{"date": start.Format("2006-01-02"), "value": v}})
}

func medianOrNil(xs []float64) any {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
