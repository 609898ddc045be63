// Package github collects release history and release-policy state from GitHub.com or GitHub Enterprise
// Server: production deployments and their statuses (or deployment workflow runs), the commits each
// deployment brought (compare API), incidents and access requests (labelled issues), security-scan and
// IaC workflow runs, Dependabot alerts, and the default branch's protection and rules. It normalises them
// into dora.Input and KPI observations; the DORA engine and the KPI engine compute the numbers.
//
// It is built to be cheap on the rate limit: first pages and single resources are revalidated with
// ETags (a 304 costs nothing), listings stop at items known from the last complete sync, compare results
// are cached by SHA pair, and rate-limit exhaustion turns into a RetryAfterError for the scheduler.
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
	"github.com/ztmm/ztmm/internal/metricdef"
)

// Kind is the source kind.
const Kind = "github"

// Raw GitHub families.
var (
	RepositoriesFamily = metricdef.New("ztmm_github_repositories", metricdef.Gauge,
		"Repositories the GitHub collector synced in its last successful sync (services and incident repositories).", "collector")
	SecurityUnavailableFamily = metricdef.New("ztmm_github_security_alerts_unavailable_repositories", metricdef.Gauge,
		"Repositories whose Dependabot alerts the token may not read (403) or that have them disabled; their vulnerability KPIs are absent.", "collector")
	OpenAlertsFamily = metricdef.New("ztmm_github_open_vulnerability_alerts", metricdef.Gauge,
		"Open Dependabot alerts by severity. Cached from the last sync.", "team", "service", "severity")
	PolicyCompliantFamily = metricdef.New("ztmm_github_release_policy_compliant", metricdef.Gauge,
		"1 if the default branch's protection and rules meet the configured release policy, 0 if not.", "team", "service")
)

// Families are the raw families this collector emits in its snapshots.
var Families = metricdef.Set{RepositoriesFamily, SecurityUnavailableFamily, OpenAlertsFamily, PolicyCompliantFamily}

// Option adjusts a Collector; tests and the demo use them.
type Option func(*Collector)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Collector) { c.now = now } }

// WithTransport sets the network transport under the collector's own layers (default http.DefaultTransport).
func WithTransport(rt http.RoundTripper) Option { return func(c *Collector) { c.base = rt } }

// Collector is one configured GitHub source. Its incremental state survives between Syncs.
type Collector struct {
	cfg    config.GitHub
	since  time.Time
	teamOf func(string) string
	tel    *collectors.Telemetry
	logger *slog.Logger
	now    func() time.Time
	base   http.RoundTripper

	client *gh.Client
	cache  *etagCache

	mu    sync.Mutex // guards repos during a sync's fan-out
	repos map[string]*repoState
}

// New returns a collector for cfg. since is the history start; teamOf maps a service to its team.
func New(cfg config.GitHub, since time.Time, teamOf func(string) string, tel *collectors.Telemetry, logger *slog.Logger, opts ...Option) (*Collector, error) {
	cfg.SetDefaults()
	if teamOf == nil {
		teamOf = func(string) string { return "" }
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Collector{cfg: cfg, since: since, teamOf: teamOf, tel: tel, logger: logger.With("collector", cfg.Name),
		now: time.Now, base: http.DefaultTransport, repos: map[string]*repoState{}}
	for _, o := range opts {
		o(c)
	}
	var rt http.RoundTripper = c.base
	if tel != nil {
		rt = tel.Transport(cfg.Name, rt)
	}
	rt = &rateRecorder{next: rt, name: cfg.Name, tel: tel}
	var token func(context.Context) (string, error)
	if cfg.App != nil {
		apps, err := newAppTokens(cfg.App, apiBase(cfg.BaseURL), rt, c.now)
		if err != nil {
			return nil, err
		}
		token = apps.get
	} else {
		tok := cfg.Token.Value()
		if tok == "" {
			return nil, errors.New("github: no token configured")
		}
		token = func(context.Context) (string, error) { return tok, nil }
	}
	c.cache = &etagCache{next: &tokenAuth{next: rt, token: token}, entries: map[string]*cacheEntry{}}
	client := gh.NewClient(&http.Client{Transport: c.cache})
	if strings.TrimSuffix(cfg.BaseURL, "/") != "https://api.github.com" {
		var err error
		if client, err = client.WithEnterpriseURLs(cfg.BaseURL, cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("github: base_url: %w", err)
		}
	}
	c.client = client
	return c, nil
}

// apiBase is the REST root go-github uses for base (GHES gets /api/v3/ appended).
func apiBase(base string) string {
	if strings.TrimSuffix(base, "/") == "https://api.github.com" {
		return "https://api.github.com/"
	}
	c, err := gh.NewClient(nil).WithEnterpriseURLs(base, base)
	if err != nil {
		return base
	}
	return c.BaseURL.String()
}

// Name is the configured instance name.
func (c *Collector) Name() string { return c.cfg.Name }

// Kind is "github".
func (c *Collector) Kind() string { return Kind }

// CachedResponses is the number of responses held for revalidation (tests, debugging).
func (c *Collector) CachedResponses() int { return c.cache.len() }

// repoTarget is a repository to sync this time and what it is for.
type repoTarget struct {
	owner, name, branch string
	service             bool // a service: deployments, runs, policy, alerts; otherwise only its issues
}

// errRepoGone marks a repository deleted (or made invisible) since it was listed.
var errRepoGone = errors.New("repository gone")

// Sync fetches what changed and returns the complete snapshot. On error the previous state stays
// usable: listings only advance their watermarks once they completed.
func (c *Collector) Sync(ctx context.Context) (*collectors.Snapshot, error) {
	targets, err := c.targets(ctx)
	if err != nil {
		return nil, fmt.Errorf("github %s: listing repositories: %w", c.cfg.Name, classify(err, c.now()))
	}
	states := make([]*repoState, len(targets))
	c.mu.Lock()
	for i, t := range targets {
		full := t.owner + "/" + t.name
		st := c.repos[full]
		if st == nil || st.service != t.service {
			st = newRepoState(t)
		}
		st.branch = t.branch
		states[i] = st
	}
	c.mu.Unlock()

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, c.cfg.Concurrency)
	var wg sync.WaitGroup
	var emu sync.Mutex
	var firstErr error
	gone := make([]bool, len(states))
	for i, st := range states {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-sctx.Done():
				return
			}
			defer func() { <-sem }()
			err := c.syncRepo(sctx, st)
			switch {
			case errors.Is(err, errRepoGone):
				c.logger.Warn("repository disappeared during sync; dropping it", "repository", st.full)
				gone[i] = true
			case err != nil:
				emu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("github %s: %s: %w", c.cfg.Name, st.full, classify(err, c.now()))
					cancel()
				}
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	next := map[string]*repoState{}
	var live []*repoState
	for i, st := range states {
		if !gone[i] {
			next[st.full] = st
			live = append(live, st)
		}
	}
	c.mu.Lock()
	c.repos = next
	c.mu.Unlock()
	c.cache.sweep()
	return c.snapshot(live), nil
}

// targets lists the repositories to sync: organizations' non-archived repositories filtered by the
// include/exclude globs, the explicit list, and the incident and access-request repositories.
func (c *Collector) targets(ctx context.Context) ([]repoTarget, error) {
	seen := map[string]int{}
	var out []repoTarget
	incident := map[string]bool{}
	for _, r := range c.cfg.Incidents.Repositories {
		incident[r] = true
	}
	add := func(r *gh.Repository, explicit bool) {
		full := r.GetFullName()
		if r.GetArchived() || (!explicit && !incident[full] && ((len(c.cfg.Include) > 0 && !c.cfg.Include.Match(full)) || c.cfg.Exclude.Match(full))) {
			return
		}
		if _, dup := seen[full]; dup {
			return
		}
		owner, name, _ := strings.Cut(full, "/")
		seen[full] = len(out)
		out = append(out, repoTarget{owner: owner, name: name, branch: cmpOr(r.GetDefaultBranch(), "main"), service: !incident[full]})
	}
	for _, org := range c.cfg.Organizations {
		opts := &gh.RepositoryListByOrgOptions{Type: "all", ListOptions: gh.ListOptions{PerPage: 100}}
		for {
			repos, resp, err := c.client.Repositories.ListByOrg(ctx, org, opts)
			if err != nil {
				return nil, err
			}
			for _, r := range repos {
				add(r, false)
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
	}
	extra := slices.Concat(c.cfg.Repositories, c.cfg.Incidents.Repositories, c.cfg.AccessRequests.Repositories)
	for _, full := range extra {
		if _, ok := seen[full]; ok {
			continue
		}
		owner, name, _ := strings.Cut(full, "/")
		r, _, err := c.client.Repositories.Get(ctx, owner, name)
		if status(err) == http.StatusNotFound {
			c.logger.Warn("configured repository not found; skipping it", "repository", full)
			continue
		}
		if err != nil {
			return nil, err
		}
		add(r, true)
	}
	return out, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// syncRepo brings one repository's state up to date.
func (c *Collector) syncRepo(ctx context.Context, st *repoState) error {
	if st.service {
		if len(c.cfg.DeploymentWorkflows) == 0 {
			if err := c.syncDeployments(ctx, st); err != nil {
				return err
			}
		}
		if err := c.syncRuns(ctx, st); err != nil {
			return err
		}
		if err := c.syncCompares(ctx, st); err != nil {
			return err
		}
		if err := c.syncPolicy(ctx, st); err != nil {
			return err
		}
		if err := c.syncAlerts(ctx, st); err != nil {
			return err
		}
	}
	return c.syncIssues(ctx, st)
}

// gone turns a 404 on a repository's own listing into errRepoGone.
func gone(err error) error {
	if status(err) == http.StatusNotFound {
		return errRepoGone
	}
	return err
}

func (c *Collector) syncDeployments(ctx context.Context, st *repoState) error {
	opts := &gh.DeploymentsListOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	high := st.depHigh
	for {
		deps, resp, err := c.client.Repositories.ListDeployments(ctx, st.owner, st.name, opts)
		if err != nil {
			return gone(err)
		}
		stop := false
		for _, d := range deps {
			// Listed newest first: everything past the last complete listing's newest id is known.
			if d.GetID() <= st.depHigh || d.GetCreatedAt().Before(c.since) {
				stop = true
				break
			}
			high = max(high, d.GetID())
			if !c.cfg.ProductionEnvironments.MatchString(d.GetEnvironment()) {
				continue
			}
			if _, ok := st.deps[d.GetID()]; !ok {
				st.deps[d.GetID()] = &depState{id: d.GetID(), sha: d.GetSHA(), created: d.GetCreatedAt().Time,
					manual: d.GetCreator().GetType() == "User"}
			}
		}
		if stop || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	st.depHigh = high
	now := c.now()
	for _, id := range sortedKeys(st.deps) {
		d := st.deps[id]
		if !d.pending(now) {
			continue
		}
		if err := c.syncStatuses(ctx, st, d); err != nil {
			return err
		}
	}
	return nil
}

// pending says whether d's statuses may still change what ztmm derives: no success yet, and either no
// terminal status or a failure recent enough that a retry may still succeed.
func (d *depState) pending(now time.Time) bool {
	return d.success.IsZero() && (d.terminal.IsZero() || now.Sub(d.terminal) < 24*time.Hour)
}

func (c *Collector) syncStatuses(ctx context.Context, st *repoState, d *depState) error {
	opts := &gh.ListOptions{PerPage: 100}
	var success, terminal time.Time
	var ok bool
	for {
		sts, resp, err := c.client.Repositories.ListDeploymentStatuses(ctx, st.owner, st.name, d.id, opts)
		if status(err) == http.StatusNotFound {
			delete(st.deps, d.id)
			return nil
		}
		if err != nil {
			return err
		}
		for _, s := range sts {
			t := s.GetCreatedAt().Time
			switch s.GetState() {
			case "success":
				if success.IsZero() || t.Before(success) {
					success = t
				}
				fallthrough
			case "failure", "error":
				if terminal.IsZero() || t.Before(terminal) {
					terminal, ok = t, s.GetState() == "success"
				}
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	d.success, d.terminal, d.terminalOK = success, terminal, ok
	return nil
}

func (c *Collector) syncRuns(ctx context.Context, st *repoState) error {
	// go-github v60's WorkflowRun has no `path` (the workflow file), so runs are decoded into wfRun.
	q := url.Values{"created": {">=" + c.since.UTC().Format(time.DateOnly)}, "per_page": {"100"}}
	high := st.runHigh
	refreshed := map[int64]bool{}
	for {
		var runs struct {
			WorkflowRuns []*wfRun `json:"workflow_runs"`
		}
		u := fmt.Sprintf("repos/%s/%s/actions/runs?%s", url.PathEscape(st.owner), url.PathEscape(st.name), q.Encode())
		resp, err := c.get(ctx, u, &runs)
		if err != nil {
			return gone(err)
		}
		stop := false
		for _, r := range runs.WorkflowRuns {
			if r.ID <= st.runHigh {
				stop = true
				break
			}
			high = max(high, r.ID)
			refreshed[r.ID] = true
			if err := c.recordRun(ctx, st, r); err != nil {
				return err
			}
		}
		if stop || resp.NextPage == 0 {
			break
		}
		q.Set("page", strconv.Itoa(resp.NextPage))
	}
	st.runHigh = high
	// Runs still in progress at the last listing are fetched one by one: they are rarely many.
	for _, id := range sortedKeys(st.runs) {
		r := st.runs[id]
		if r.completed || refreshed[id] {
			continue
		}
		var run wfRun
		_, err := c.get(ctx, fmt.Sprintf("repos/%s/%s/actions/runs/%d", url.PathEscape(st.owner), url.PathEscape(st.name), id), &run)
		if status(err) == http.StatusNotFound {
			delete(st.runs, id)
			continue
		}
		if err != nil {
			return err
		}
		if err := c.recordRun(ctx, st, &run); err != nil {
			return err
		}
	}
	return nil
}

// wfRun is the part of a workflow run ztmm reads.
type wfRun struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Path         string    `json:"path"`
	HeadSHA      string    `json:"head_sha"`
	Event        string    `json:"event"`
	Status       string    `json:"status"`
	Conclusion   string    `json:"conclusion"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	RunStartedAt time.Time `json:"run_started_at"`
}

// get fetches a REST path relative to the API root into v through go-github (same transport, errors
// and rate-limit handling as the typed calls).
func (c *Collector) get(ctx context.Context, u string, v any) (*gh.Response, error) {
	req, err := c.client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.client.Do(ctx, req, v)
}

// workflowFile is a run's workflow file name without directory and @ref (".github/workflows/x.yml@main" → "x.yml").
func workflowFile(p string) string {
	p, _, _ = strings.Cut(p, "@")
	return path.Base(p)
}

func (c *Collector) recordRun(ctx context.Context, st *repoState, r *wfRun) error {
	file := workflowFile(r.Path)
	rs := &runState{id: r.ID, completed: r.Status == "completed", conclusion: r.Conclusion,
		sha: r.HeadSHA, manual: r.Event == "workflow_dispatch", updated: r.UpdatedAt, started: r.RunStartedAt}
	if rs.started.IsZero() {
		rs.started = r.CreatedAt
	}
	matchFile := func(g config.Globs) bool { return g.Match(file) || g.Match(r.Path) }
	rs.deploy = matchFile(c.cfg.DeploymentWorkflows)
	rs.iac = matchFile(c.cfg.IaCWorkflows)
	scan := matchFile(c.cfg.ScanWorkflows) || (len(c.cfg.ScanWorkflows) == 0 && c.cfg.ScanJobs.MatchString(r.Name))
	st.runs[rs.id] = rs
	if !rs.completed || !scan {
		return nil
	}
	opts := &gh.ListWorkflowJobsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		jobs, resp, err := c.client.Actions.ListWorkflowJobs(ctx, st.owner, st.name, rs.id, opts)
		if status(err) == http.StatusNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		for _, j := range jobs.Jobs {
			// GitHub names a job's check "<workflow> / <job>" (e.g. "CodeQL / Analyze (go)"); the pattern may match either part.
			if j.GetConclusion() != "success" || !c.cfg.ScanJobs.MatchString(r.Name+" / "+j.GetName()) || j.StartedAt == nil || j.CompletedAt == nil {
				continue
			}
			rs.scans = append(rs.scans, timed{at: j.GetCompletedAt().Time, v: j.GetCompletedAt().Sub(j.GetStartedAt().Time).Seconds()})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return nil
}

// deployments are the repository's successful production deployments, from the Deployments API or the
// configured deployment workflows.
func (c *Collector) deployments(st *repoState) []dora.Deployment {
	var out []dora.Deployment
	if len(c.cfg.DeploymentWorkflows) > 0 {
		for _, id := range sortedKeys(st.runs) {
			r := st.runs[id]
			if r.deploy && r.completed && r.conclusion == "success" {
				out = append(out, dora.Deployment{Service: st.full, ID: strconv.FormatInt(id, 10), SHA: r.sha, Time: r.updated, Manual: r.manual})
			}
		}
		return out
	}
	for _, id := range sortedKeys(st.deps) {
		d := st.deps[id]
		if !d.success.IsZero() {
			out = append(out, dora.Deployment{Service: st.full, ID: strconv.FormatInt(id, 10), SHA: d.sha, Time: d.success, Manual: d.manual})
		}
	}
	return out
}

func (c *Collector) syncCompares(ctx context.Context, st *repoState) error {
	deps := c.deployments(st)
	if len(deps) == 0 {
		return nil
	}
	first := slices.MinFunc(deps, func(a, b dora.Deployment) int {
		return cmpInt(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID))
	})
	if _, ok := st.heads[first.SHA]; !ok {
		commit, _, err := c.client.Repositories.GetCommit(ctx, st.owner, st.name, first.SHA, nil)
		switch s := status(err); {
		case s == http.StatusNotFound || s == http.StatusUnprocessableEntity:
			st.heads[first.SHA] = time.Time{} // gone from the repository: no change to count
		case err != nil:
			return err
		default:
			st.heads[first.SHA] = commit.GetCommit().GetAuthor().GetDate().Time
		}
	}
	for _, p := range dora.Pairs(deps) {
		if p.Previous.SHA == p.Current.SHA {
			continue
		}
		key := p.Previous.SHA + "..." + p.Current.SHA
		if _, ok := st.compares[key]; ok {
			continue
		}
		res, err := c.compare(ctx, st, p.Previous.SHA, p.Current.SHA)
		if err != nil {
			return err
		}
		st.compares[key] = res
	}
	return nil
}

func cmpInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// compare fetches compare(base…head) with every page of commits: GitHub returns at most 250 per page.
func (c *Collector) compare(ctx context.Context, st *repoState, base, head string) (compareResult, error) {
	opts := &gh.ListOptions{PerPage: 250}
	var res compareResult
	for {
		cmp, resp, err := c.client.Repositories.CompareCommits(ctx, st.owner, st.name, base, head, opts)
		if s := status(err); s == http.StatusNotFound || s == http.StatusUnprocessableEntity {
			// A SHA no longer reachable (force push, deleted branch): the deployment moved production but
			// its commits cannot be known. Counted as a forward move without changes.
			return compareResult{status: dora.Ahead}, nil
		}
		if err != nil {
			return res, err
		}
		if opts.Page <= 1 {
			res.status = dora.CompareStatus(cmp.GetStatus())
		}
		for _, cm := range cmp.Commits {
			res.changes = append(res.changes, dora.Change{SHA: cm.GetSHA(), AuthorTime: cm.GetCommit().GetAuthor().GetDate().Time})
		}
		if resp.NextPage == 0 || len(res.changes) >= cmp.GetTotalCommits() {
			break
		}
		opts.Page = resp.NextPage
	}
	return res, nil
}

func (c *Collector) syncIssues(ctx context.Context, st *repoState) error {
	since := st.issuesSince
	if since.IsZero() {
		since = c.since
	}
	opts := &gh.IssueListByRepoOptions{State: "all", Sort: "updated", Direction: "desc", Since: since, ListOptions: gh.ListOptions{PerPage: 100}}
	newest := st.issuesSince
	for {
		issues, resp, err := c.client.Issues.ListByRepo(ctx, st.owner, st.name, opts)
		if err != nil {
			return gone(err)
		}
		for _, in := range issues {
			if in.IsPullRequest() {
				continue
			}
			if u := in.GetUpdatedAt().Time; u.After(newest) {
				newest = u
			}
			is := issueState{created: in.GetCreatedAt().Time, reason: in.GetStateReason()}
			if in.GetState() == "closed" {
				is.closed = in.GetClosedAt().Time
			}
			for _, l := range in.Labels {
				is.labels = append(is.labels, l.GetName())
			}
			st.issues[in.GetID()] = is
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	// since is inclusive, so the newest issue comes back each time and the URL stays the same until
	// something changes: steady state is a 304.
	st.issuesSince = newest
	return nil
}

func (c *Collector) syncAlerts(ctx context.Context, st *repoState) error {
	sort, dir := "updated", "desc"
	opts := &gh.ListAlertsOptions{Sort: &sort, Direction: &dir, ListOptions: gh.ListOptions{PerPage: 100}}
	high := st.alertsHigh
	for {
		alerts, resp, err := c.client.Dependabot.ListRepoAlerts(ctx, st.owner, st.name, opts)
		if s := status(err); s == http.StatusForbidden || s == http.StatusNotFound {
			var rl *gh.RateLimitError
			var ab *gh.AbuseRateLimitError
			if errors.As(err, &rl) || errors.As(err, &ab) {
				return err
			}
			if !st.alertsUnavailable {
				c.logger.Warn("Dependabot alerts not readable (token lacks the permission, or alerts are disabled); vulnerability KPIs are absent for this repository",
					"repository", st.full, "status", s)
			}
			st.alertsUnavailable, st.alerts, st.alertsHigh = true, map[int]alertState{}, time.Time{}
			return nil
		}
		if err != nil {
			return err
		}
		st.alertsUnavailable = false
		stop := false
		for _, a := range alerts {
			u := a.GetUpdatedAt().Time
			if !st.alertsHigh.IsZero() && u.Before(st.alertsHigh) {
				stop = true
				break
			}
			if u.After(high) {
				high = u
			}
			sev := a.GetSecurityVulnerability().GetSeverity()
			if sev == "" {
				sev = a.GetSecurityAdvisory().GetSeverity()
			}
			st.alerts[a.GetNumber()] = alertState{state: a.GetState(), severity: sev, created: a.GetCreatedAt().Time, fixed: a.GetFixedAt().Time}
		}
		if stop {
			break
		}
		switch {
		case resp.After != "":
			opts.ListCursorOptions.After = resp.After
		case resp.NextPage != 0:
			opts.ListOptions.Page = resp.NextPage
		default:
			st.alertsHigh = high
			return nil
		}
	}
	st.alertsHigh = high
	return nil
}

// syncPolicy reads the branch's effective rules first (read access suffices) and classic branch
// protection only when the rules alone do not meet the policy. An unprotected branch answers 404, which
// cannot be revalidated for free, so that answer is trusted for an hour.
func (c *Collector) syncPolicy(ctx context.Context, st *repoState) error {
	rules, _, err := c.client.Repositories.GetRulesForBranch(ctx, st.owner, st.name, st.branch)
	rulesKnown := true
	switch s := status(err); {
	case s == http.StatusNotFound || (s == http.StatusForbidden && !isRateLimit(err)):
		rules, rulesKnown = nil, false
	case err != nil:
		return err
	}
	if rulesKnown && meetsPolicy(c.cfg.ReleasePolicy, nil, rules) {
		ok := true
		st.policy = &ok
		return nil
	}
	now := c.now()
	var prot *gh.Protection
	protKnown := true
	if !st.unprotectedAt.IsZero() && now.Sub(st.unprotectedAt) < time.Hour {
		prot = nil
	} else {
		prot, _, err = c.client.Repositories.GetBranchProtection(ctx, st.owner, st.name, st.branch)
		st.unprotectedAt = time.Time{}
		switch s := status(err); {
		case errors.Is(err, gh.ErrBranchNotProtected) || s == http.StatusNotFound:
			prot, st.unprotectedAt = nil, now
		case s == http.StatusForbidden && !isRateLimit(err):
			// Classic protection needs admin read; the rules were all we could see.
			prot, protKnown = nil, false
		case err != nil:
			return err
		}
	}
	if !protKnown && !rulesKnown {
		st.policy = nil
		return nil
	}
	ok := meetsPolicy(c.cfg.ReleasePolicy, prot, rules)
	st.policy = &ok
	return nil
}

func isRateLimit(err error) bool {
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	return errors.As(err, &rl) || errors.As(err, &ab)
}

// meetsPolicy evaluates the release policy against classic branch protection and the branch's
// effective rules (repository and organization rulesets); either may satisfy each part.
func meetsPolicy(p config.ReleasePolicy, prot *gh.Protection, rules []*gh.RepositoryRule) bool {
	approvals, checks, noForce := -1, false, false
	if prot != nil {
		if r := prot.RequiredPullRequestReviews; r != nil {
			approvals = r.RequiredApprovingReviewCount
		}
		checks = prot.RequiredStatusChecks != nil
		noForce = prot.AllowForcePushes == nil || !prot.AllowForcePushes.Enabled
	}
	for _, r := range rules {
		switch r.Type {
		case "pull_request":
			n := 0
			if r.Parameters != nil {
				var params struct {
					Count int `json:"required_approving_review_count"`
				}
				if jsonUnmarshal(*r.Parameters, &params) == nil {
					n = params.Count
				}
			}
			approvals = max(approvals, n)
		case "required_status_checks":
			checks = true
		case "non_fast_forward":
			noForce = true
		}
	}
	if *p.RequirePullRequest && approvals < max(*p.RequiredApprovals, 0) {
		return false
	}
	if *p.RequirePullRequest && approvals < 0 {
		return false
	}
	if *p.RequireStatusChecks && !checks {
		return false
	}
	if *p.BlockForcePushes && !noForce {
		return false
	}
	return true
}

// snapshot turns the repositories' state into the source's snapshot.
func (c *Collector) snapshot(repos []*repoState) *collectors.Snapshot {
	snap := &collectors.Snapshot{Time: c.now()}
	slices.SortFunc(repos, func(a, b *repoState) int { return strings.Compare(a.full, b.full) })
	unavailable := 0
	for _, st := range repos {
		team := c.teamOf(st.full)
		if st.service {
			c.releaseEvents(st, snap)
			if st.policy != nil {
				v := b2f(*st.policy)
				snap.Counts = append(snap.Counts, collectors.Count{KPI: "security_policy_compliance_rate", Service: st.full, Numerator: v, Denominator: 1})
				snap.Metrics = append(snap.Metrics, PolicyCompliantFamily.Metric(v, team, st.full))
			}
			if st.alertsUnavailable {
				unavailable++
			} else {
				c.alertEvents(st, team, snap)
			}
		}
		c.issueEvents(st, snap)
	}
	snap.Metrics = append(snap.Metrics, RepositoriesFamily.Metric(float64(len(repos)), c.cfg.Name),
		SecurityUnavailableFamily.Metric(float64(unavailable), c.cfg.Name))
	return snap
}

func (c *Collector) releaseEvents(st *repoState, snap *collectors.Snapshot) {
	deps := c.deployments(st)
	byID := map[string]int{}
	for i, d := range deps {
		byID[d.ID] = i
	}
	for _, p := range dora.Pairs(deps) {
		i := byID[p.Current.ID]
		switch {
		case p.Previous.SHA == p.Current.SHA:
			deps[i].Status = dora.Identical
		default:
			if r, ok := st.compares[p.Previous.SHA+"..."+p.Current.SHA]; ok {
				deps[i].Status = r.status
				if r.status == dora.Ahead || r.status == dora.Diverged {
					deps[i].Changes = r.changes
				}
			}
		}
	}
	if len(deps) > 0 {
		first := slices.MinFunc(deps, func(a, b dora.Deployment) int {
			return cmpInt(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID))
		})
		i := byID[first.ID]
		deps[i].Status = dora.First
		if t := st.heads[first.SHA]; !t.IsZero() {
			deps[i].Changes = []dora.Change{{SHA: first.SHA, AuthorTime: t}}
		}
	}
	snap.DORA.Deployments = append(snap.DORA.Deployments, deps...)
	if len(c.cfg.DeploymentWorkflows) > 0 {
		for _, id := range sortedKeys(st.runs) {
			r := st.runs[id]
			if !r.deploy || !r.completed {
				continue
			}
			switch r.conclusion {
			case "success", "failure", "timed_out", "startup_failure":
				snap.DORA.Attempts = append(snap.DORA.Attempts, dora.Attempt{Service: st.full, Time: r.updated, Success: r.conclusion == "success", Manual: r.manual})
			}
		}
	} else {
		for _, id := range sortedKeys(st.deps) {
			d := st.deps[id]
			if !d.terminal.IsZero() {
				snap.DORA.Attempts = append(snap.DORA.Attempts, dora.Attempt{Service: st.full, Time: d.terminal, Success: d.terminalOK, Manual: d.manual})
			}
		}
	}
	for _, id := range sortedKeys(st.runs) {
		r := st.runs[id]
		for _, s := range r.scans {
			snap.Observations = append(snap.Observations, collectors.Observation{KPI: "security_scan_completion_time", Service: st.full, Time: s.at, Value: s.v})
		}
		if r.iac && r.completed && r.conclusion == "success" && r.updated.After(r.started) {
			snap.Observations = append(snap.Observations, collectors.Observation{KPI: "infrastructure_provisioning_time", Service: st.full,
				Time: r.updated, Value: r.updated.Sub(r.started).Seconds()})
		}
	}
}

func (c *Collector) alertEvents(st *repoState, team string, snap *collectors.Snapshot) {
	open := map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0}
	for _, n := range sortedKeys(st.alerts) {
		a := st.alerts[n]
		switch a.state {
		case "open":
			open[a.severity]++
		case "fixed":
			if a.fixed.IsZero() || a.fixed.Before(a.created) {
				continue
			}
			v := a.fixed.Sub(a.created).Seconds()
			if a.severity == "high" || a.severity == "critical" {
				snap.Observations = append(snap.Observations, collectors.Observation{KPI: "application_vulnerability_resolution_time", Service: st.full, Time: a.fixed, Value: v})
			}
			if a.severity == "critical" {
				snap.Observations = append(snap.Observations, collectors.Observation{KPI: "vulnerability_resolution_time", Service: st.full, Time: a.fixed, Value: v})
			}
		}
	}
	snap.Counts = append(snap.Counts, collectors.Count{KPI: "open_critical_vulnerabilities", Service: st.full, Numerator: float64(open["critical"])})
	for _, sev := range []string{"critical", "high", "medium", "low"} {
		snap.Metrics = append(snap.Metrics, OpenAlertsFamily.Metric(float64(open[sev]), team, st.full, sev))
	}
}

func (c *Collector) issueEvents(st *repoState, snap *collectors.Snapshot) {
	in := c.cfg.Incidents
	ar := c.cfg.AccessRequests
	accessHere := len(ar.Repositories) == 0 || slices.Contains(ar.Repositories, st.full)
	for _, id := range sortedKeys(st.issues) {
		is := st.issues[id]
		service := ""
		if st.service {
			service = st.full
		}
		var pillar catalog.Area
		incident, security := false, false
		kpi := ""
		for _, l := range is.labels {
			switch {
			case slices.Contains(in.Labels, l):
				incident = true
			case l == in.SecurityLabel:
				security = true
			case strings.HasPrefix(l, in.ServiceLabelPrefix):
				s := strings.TrimPrefix(l, in.ServiceLabelPrefix)
				if !strings.Contains(s, "/") {
					s = st.owner + "/" + s
				}
				service = s
			case strings.HasPrefix(l, in.PillarLabelPrefix):
				if a, ok := areaOf(strings.TrimPrefix(l, in.PillarLabelPrefix)); ok {
					pillar = a
				}
			case slices.Contains(ar.PrivilegedLabels, l):
				kpi = "privileged_access_fulfillment_time"
			case slices.Contains(ar.DataLabels, l):
				kpi = "data_access_fulfillment_time"
			}
		}
		if incident {
			snap.DORA.Incidents = append(snap.DORA.Incidents, dora.Incident{Service: service, Opened: is.created, Resolved: is.closed, Pillar: pillar, Security: security})
			continue
		}
		if kpi != "" && accessHere && !is.closed.IsZero() && is.reason != "not_planned" && !is.closed.Before(is.created) {
			snap.Observations = append(snap.Observations, collectors.Observation{KPI: kpi, Service: service, Time: is.closed, Value: is.closed.Sub(is.created).Seconds()})
		}
	}
}

func areaOf(s string) (catalog.Area, bool) {
	switch a := catalog.Area(s); a {
	case catalog.Identities, catalog.Endpoints, catalog.Applications, catalog.Infrastructure, catalog.Data, catalog.Network, catalog.ServiceRelease:
		return a, true
	}
	return "", false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
