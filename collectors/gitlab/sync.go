package gitlab

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/catalog"
	"github.com/ztmm/ztmm/internal/dora"
)

// syncProject brings one project's incremental state up to date.
func (c *Collector) syncProject(ctx context.Context, p *project, start time.Time) error {
	envs, err := gl.ScanAndCollect(func(o gl.PaginationOptionFunc) ([]*gl.Environment, *gl.Response, error) {
		return c.client.Environments.ListEnvironments(p.id, &gl.ListEnvironmentsOptions{ListOptions: gl.ListOptions{PerPage: perPage}}, gl.WithContext(ctx), o)
	})
	if err != nil {
		return fmt.Errorf("environments: %w", err)
	}
	p.envTier = map[string]string{}
	for _, e := range envs {
		p.envTier[e.Name] = e.Tier
	}

	// Deployments change state (running → success/failed), so they are listed by updated_at.
	after := p.depCursor.Add(-overlap)
	deps, err := gl.ScanAndCollect(func(o gl.PaginationOptionFunc) ([]*gl.Deployment, *gl.Response, error) {
		return c.client.Deployments.ListProjectDeployments(p.id, &gl.ListProjectDeploymentsOptions{
			ListOptions: gl.ListOptions{PerPage: perPage}, OrderBy: gl.Ptr("updated_at"), Sort: gl.Ptr("asc"),
			UpdatedAfter: &after}, gl.WithContext(ctx), o)
	})
	if err != nil {
		return fmt.Errorf("deployments: %w", err)
	}
	for _, d := range deps {
		p.deployments[d.ID] = d
		if d.UpdatedAt != nil && d.UpdatedAt.After(p.depCursor) {
			p.depCursor = *d.UpdatedAt
		}
	}

	after = p.issueCursor.Add(-overlap)
	issues, err := gl.ScanAndCollect(func(o gl.PaginationOptionFunc) ([]*gl.Issue, *gl.Response, error) {
		return c.client.Issues.ListProjectIssues(p.id, &gl.ListProjectIssuesOptions{
			ListOptions: gl.ListOptions{PerPage: perPage}, OrderBy: gl.Ptr("updated_at"), Sort: gl.Ptr("asc"),
			Scope: gl.Ptr("all"), UpdatedAfter: &after}, gl.WithContext(ctx), o)
	})
	if err != nil {
		return fmt.Errorf("issues: %w", err)
	}
	for _, i := range issues {
		p.issues[i.ID] = i
		if i.UpdatedAt != nil && i.UpdatedAt.After(p.issueCursor) {
			p.issueCursor = *i.UpdatedAt
		}
	}

	if err := c.syncJobs(ctx, p, start); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if err := c.syncPipelines(ctx, p); err != nil {
		return fmt.Errorf("pipelines: %w", err)
	}
	return nil
}

// syncJobs lists finished jobs newest first with keyset pagination and stops once a page reaches jobs
// created before the previous listing's horizon: older jobs were seen then.
func (c *Collector) syncJobs(ctx context.Context, p *project, start time.Time) error {
	scopes := []gl.BuildStateValue{gl.Success, gl.Failed}
	horizon := p.jobsSeen.Add(-jobsHorizon)
	if horizon.Before(c.since) {
		horizon = c.since
	}
	var page gl.PaginationOptionFunc
	for {
		opts := []gl.RequestOptionFunc{gl.WithContext(ctx)}
		if page != nil {
			opts = append(opts, page)
		}
		jobs, resp, err := c.client.Jobs.ListProjectJobs(p.id, &gl.ListJobsOptions{Scope: &scopes,
			ListOptions: gl.ListOptions{Pagination: "keyset", OrderBy: "id", Sort: "desc", PerPage: perPage}}, opts...)
		if err != nil {
			return err
		}
		done := false
		for _, j := range jobs {
			if j.CreatedAt != nil && j.CreatedAt.Before(horizon) {
				done = true
				continue
			}
			if j.FinishedAt == nil || j.Status != "success" {
				continue
			}
			o := collectors.Observation{Service: p.path, Time: *j.FinishedAt, Value: j.Duration}
			switch {
			case matches(c.cfg.ScanJobs, j.Name):
				o.KPI = scanKPI
				p.scans[j.ID] = o
			case matches(c.cfg.IaCPipelines, j.Name) && j.Pipeline.ID != 0 && !p.iacPipeline[j.Pipeline.ID]:
				o.KPI = iacKPI
				p.iac[j.Pipeline.ID] = o
			}
		}
		next, ok := gl.WithNext(resp)
		if done || !ok {
			break
		}
		page = next
	}
	p.jobsSeen = start
	return nil
}

// syncPipelines finds finished pipelines whose name matches the IaC pattern and records their duration
// (one request per such pipeline: the list entity has no duration).
func (c *Collector) syncPipelines(ctx context.Context, p *project) error {
	if c.cfg.IaCPipelines.Regexp == nil {
		return nil
	}
	after := p.pipeCursor.Add(-overlap)
	pipes, err := gl.ScanAndCollect(func(o gl.PaginationOptionFunc) ([]*gl.PipelineInfo, *gl.Response, error) {
		return c.client.Pipelines.ListProjectPipelines(p.id, &gl.ListProjectPipelinesOptions{
			ListOptions: gl.ListOptions{PerPage: perPage}, Status: gl.Ptr(gl.Success), UpdatedAfter: &after}, gl.WithContext(ctx), o)
	})
	if err != nil {
		return err
	}
	for _, pi := range pipes {
		if pi.UpdatedAt != nil && pi.UpdatedAt.After(p.pipeCursor) {
			p.pipeCursor = *pi.UpdatedAt
		}
		if !matches(c.cfg.IaCPipelines, pi.Name) || p.iacPipeline[pi.ID] {
			continue
		}
		full, _, err := c.client.Pipelines.GetPipeline(p.id, pi.ID, gl.WithContext(ctx))
		if err != nil {
			return err
		}
		at := full.UpdatedAt
		if full.FinishedAt != nil {
			at = full.FinishedAt
		}
		if at == nil {
			continue
		}
		p.iac[pi.ID] = collectors.Observation{KPI: iacKPI, Service: p.path, Time: *at, Value: float64(full.Duration)}
		p.iacPipeline[pi.ID] = true
	}
	return nil
}

const (
	scanKPI         = "security_scan_completion_time"
	iacKPI          = "infrastructure_provisioning_time"
	privilegedKPI   = "privileged_access_fulfillment_time"
	dataAccessKPI   = "data_access_fulfillment_time"
	appVulnKPI      = "application_vulnerability_resolution_time"
	vulnKPI         = "vulnerability_resolution_time"
	openCriticalKPI = "open_critical_vulnerabilities"
	policyKPI       = "security_policy_compliance_rate"
)

// deployTime is when a deployment reached its status: the deploy job's finished_at (the REST deployment
// has none of its own), else the deployment's updated_at.
func deployTime(d *gl.Deployment) time.Time {
	if d.Deployable.FinishedAt != nil {
		return *d.Deployable.FinishedAt
	}
	if d.UpdatedAt != nil {
		return *d.UpdatedAt
	}
	return time.Time{}
}

// events builds the DORA input of every project: deployments (with manual flags from GraphQL and
// compare statuses), finished attempts and incidents.
func (c *Collector) events(ctx context.Context, paths []string) (dora.Input, error) {
	var in dora.Input
	for _, path := range paths {
		p := c.projects[path]
		var prod []*gl.Deployment
		for _, d := range p.deployments {
			if !c.production(p, envName(d)) || (d.Status != "success" && d.Status != "failed") {
				continue
			}
			if t := deployTime(d); t.IsZero() || t.Before(c.since) {
				continue
			}
			prod = append(prod, d)
		}
		// Map order must not leak into the snapshot: same upstream, same snapshot.
		slices.SortFunc(prod, func(a, b *gl.Deployment) int {
			if d := deployTime(a).Compare(deployTime(b)); d != 0 {
				return d
			}
			return cmp.Compare(a.ID, b.ID)
		})
		if err := c.fetchManual(ctx, p, prod); err != nil {
			return dora.Input{}, err
		}
		var deps []dora.Deployment
		for _, d := range prod {
			manual := p.manual[d.Deployable.ID]
			t := deployTime(d)
			in.Attempts = append(in.Attempts, dora.Attempt{Service: path, Time: t, Success: d.Status == "success", Manual: manual})
			if d.Status == "success" {
				deps = append(deps, dora.Deployment{Service: path, ID: fmt.Sprint(d.ID), SHA: d.SHA, Time: t, Manual: manual})
			}
		}
		if err := c.compareAll(ctx, p, deps, prod); err != nil {
			return dora.Input{}, err
		}
		in.Deployments = append(in.Deployments, deps...)
		in.Incidents = append(in.Incidents, c.incidents(p)...)
	}
	slices.SortFunc(in.Attempts, func(a, b dora.Attempt) int { return a.Time.Compare(b.Time) })
	return in, nil
}

func envName(d *gl.Deployment) string {
	if d.Environment == nil {
		return ""
	}
	return d.Environment.Name
}

// compareAll sets each deployment's compare status and changes. deps is modified in place.
func (c *Collector) compareAll(ctx context.Context, p *project, deps []dora.Deployment, raw []*gl.Deployment) error {
	idx := map[string]int{}
	for i, d := range deps {
		idx[d.ID] = i
	}
	pairs := dora.Pairs(deps)
	hasPrev := map[string]bool{}
	for _, pr := range pairs {
		hasPrev[pr.Current.ID] = true
		r, err := c.compare(ctx, p, pr.Previous.SHA, pr.Current.SHA)
		if err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		d := &deps[idx[pr.Current.ID]]
		d.Status, d.Changes = r.status, r.changes
	}
	// The first deployment known brings only its head commit.
	heads := map[string]*gl.Commit{}
	for _, d := range raw {
		heads[fmt.Sprint(d.ID)] = d.Deployable.Commit
	}
	for i := range deps {
		if hasPrev[deps[i].ID] {
			continue
		}
		deps[i].Status = dora.First
		if cm := heads[deps[i].ID]; cm != nil {
			deps[i].Changes = []dora.Change{{SHA: cm.ID, AuthorTime: authorTime(cm)}}
		}
	}
	return nil
}

func authorTime(cm *gl.Commit) time.Time {
	for _, t := range []*time.Time{cm.AuthoredDate, cm.CreatedAt, cm.CommittedDate} {
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

func (c *Collector) compare(ctx context.Context, p *project, from, to string) (compareResult, error) {
	if from == to {
		return compareResult{status: dora.Identical}, nil
	}
	key := [3]string{p.path, from, to}
	if r, ok := c.compares[key]; ok {
		return r, nil
	}
	res, _, err := c.client.Repositories.Compare(p.id, &gl.CompareOptions{From: &from, To: &to}, gl.WithContext(ctx))
	if err != nil {
		return compareResult{}, err
	}
	r := compareResult{status: dora.Behind}
	if len(res.Commits) > 0 {
		r.status = dora.Diverged
		for _, cm := range res.Commits {
			if slices.Contains(cm.ParentIDs, from) {
				r.status = dora.Ahead
			}
			r.changes = append(r.changes, dora.Change{SHA: cm.ID, AuthorTime: authorTime(cm)})
		}
	}
	c.compares[key] = r
	return r, nil
}

// fetchManual asks GraphQL, in batches, whether each deploy job not yet known is a manual job: REST job
// entities do not say so (CiJob.manualJob does).
func (c *Collector) fetchManual(ctx context.Context, p *project, deps []*gl.Deployment) error {
	var todo []int64
	for _, d := range deps {
		if _, ok := p.manual[d.Deployable.ID]; !ok && d.Deployable.ID != 0 && !slices.Contains(todo, d.Deployable.ID) {
			todo = append(todo, d.Deployable.ID)
		}
	}
	slices.Sort(todo)
	for len(todo) > 0 && !c.noGraphQL {
		batch := todo[:min(graphQLMax, len(todo))]
		todo = todo[len(batch):]
		var q strings.Builder
		q.WriteString("query($fullPath: ID!) { project(fullPath: $fullPath) {")
		for _, id := range batch {
			fmt.Fprintf(&q, ` j%d: job(id: "gid://gitlab/Ci::Build/%d") { id manualJob }`, id, id)
		}
		q.WriteString(" } }")
		var resp struct {
			Data struct {
				Project map[string]*struct {
					ManualJob bool `json:"manualJob"`
				} `json:"project"`
			} `json:"data"`
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		_, err := c.client.GraphQL.Do(gl.GraphQLQuery{Query: q.String(), Variables: map[string]any{"fullPath": p.path}}, &resp, gl.WithContext(ctx))
		if err != nil {
			if unavailable(err) {
				c.noGraphQL = true
				c.logger.Warn("GitLab GraphQL API not available; deployments are counted as automated", "err", err)
				return nil
			}
			return fmt.Errorf("graphql manual jobs: %w", err)
		}
		if len(resp.Errors) > 0 {
			return fmt.Errorf("graphql manual jobs: %s", resp.Errors[0].Message)
		}
		for _, id := range batch {
			j := resp.Data.Project[fmt.Sprintf("j%d", id)]
			p.manual[id] = j != nil && j.ManualJob
		}
	}
	return nil
}

// incidents are the project's issues of type incident (older GitLab without issue_type: issues carrying
// an incident label), attributed by their pillar/service/security labels.
func (c *Collector) incidents(p *project) []dora.Incident {
	cfg := c.cfg.Incidents
	central := slices.Contains(cfg.Repositories, p.path)
	var out []dora.Incident
	for _, i := range p.issues {
		isIncident := i.IssueType != nil && *i.IssueType == "incident"
		if i.IssueType == nil {
			isIncident = slices.ContainsFunc([]string(i.Labels), func(l string) bool { return slices.Contains(cfg.Labels, l) })
		}
		if !isIncident || i.CreatedAt == nil || i.CreatedAt.Before(c.since) {
			continue
		}
		inc := dora.Incident{Service: p.path, Opened: *i.CreatedAt}
		if central {
			inc.Service = ""
		}
		if i.ClosedAt != nil {
			inc.Resolved = *i.ClosedAt
		}
		for _, l := range i.Labels {
			switch {
			case l == cfg.SecurityLabel:
				inc.Security = true
			case strings.HasPrefix(l, cfg.PillarLabelPrefix):
				a := catalog.Area(strings.TrimPrefix(l, cfg.PillarLabelPrefix))
				if _, ok := catalog.Default().Area(a); ok {
					inc.Pillar = a
				}
			case central && strings.HasPrefix(l, cfg.ServiceLabelPrefix):
				inc.Service = strings.TrimPrefix(l, cfg.ServiceLabelPrefix)
			}
		}
		out = append(out, inc)
	}
	slices.SortFunc(out, func(a, b dora.Incident) int { return a.Opened.Compare(b.Opened) })
	return out
}

// observations are the project's dated measurements: scan jobs, IaC pipelines and access requests.
func (c *Collector) observations(p *project) []collectors.Observation {
	var out []collectors.Observation
	for _, o := range p.scans {
		if !o.Time.Before(c.since) {
			out = append(out, o)
		}
	}
	for _, o := range p.iac {
		if !o.Time.Before(c.since) {
			out = append(out, o)
		}
	}
	out = append(out, p.vulnObs...)
	ar := c.cfg.AccessRequests
	inScope := len(ar.Repositories) == 0 || slices.Contains(ar.Repositories, p.path)
	for _, i := range p.issues {
		if !inScope || i.ClosedAt == nil || i.CreatedAt == nil || i.ClosedAt.Before(c.since) {
			continue
		}
		kpi := ""
		for _, l := range i.Labels {
			switch {
			case slices.Contains(ar.PrivilegedLabels, l):
				kpi = privilegedKPI
			case slices.Contains(ar.DataLabels, l) && kpi == "":
				kpi = dataAccessKPI
			}
		}
		if kpi != "" {
			out = append(out, collectors.Observation{KPI: kpi, Service: p.path, Time: *i.ClosedAt, Value: i.ClosedAt.Sub(*i.CreatedAt).Seconds()})
		}
	}
	slices.SortFunc(out, func(a, b collectors.Observation) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.KPI, b.KPI)
	})
	return out
}
