package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/metricdef"
)

// Raw families of the GitLab source.
var (
	doraFamily = family("ztmm_gitlab_dora_metric", metricdef.Gauge,
		"GitLab's own DORA metric for a project over the last 30 days (Ultimate; DORA API, interval=all), as GitLab reports it, beside ztmm's values for comparison: deployment_frequency in deployments per day, lead_time_for_changes and time_to_restore_service in seconds, change_failure_rate as a ratio. Absent where the licence lacks the API.",
		"collector", "team", "service", "metric")
	policyFamily = family("ztmm_gitlab_release_policy_check", metricdef.Gauge,
		"1 if the project's default branch passes a release-policy check (protected, force_push_blocked, approvals, pipeline_must_succeed), 0 if not.",
		"collector", "team", "service", "check")
	vulnFamily = family("ztmm_gitlab_open_vulnerabilities", metricdef.Gauge,
		"Open (detected or confirmed) vulnerabilities of the project by severity (Ultimate; absent where the licence lacks the API).",
		"collector", "team", "service", "severity")
	projectsFamily = family("ztmm_gitlab_projects", metricdef.Gauge,
		"Projects the GitLab source syncs, after group expansion, include/exclude and skipping archived projects.",
		"collector")
)

// Families are the GitLab source's raw families, for the exporter's Describe and METRICS.md.
var Families = metricdef.Set{doraFamily, policyFamily, vulnFamily, projectsFamily}

func family(name string, t metricdef.Type, help string, labels ...string) *metricdef.Family {
	f := metricdef.New(name, t, help, labels...)
	f.Source = "gitlab"
	return f
}

var doraMetrics = []gl.DORAMetricType{gl.DORAMetricDeploymentFrequency, gl.DORAMetricLeadTimeForChanges,
	gl.DORAMetricTimeToRestoreService, gl.DORAMetricChangeFailureRate}

var severities = []string{"critical", "high", "medium", "low", "info", "unknown"}

// current fetches the project's current state: release policy, vulnerabilities and GitLab's own DORA
// values. These are not incremental; they are a handful of requests per project.
func (c *Collector) current(ctx context.Context, p *project, now time.Time) ([]collectors.Count, []prometheus.Metric, error) {
	team := c.teamOf(p.path)
	var counts []collectors.Count
	var metrics []prometheus.Metric

	checks, err := c.policy(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	compliant := 1.0
	for _, ch := range checks {
		v := 0.0
		if ch.ok {
			v = 1
		} else if ch.required {
			compliant = 0
		}
		metrics = append(metrics, policyFamily.Metric(v, c.cfg.Name, team, p.path, ch.name))
	}
	counts = append(counts, collectors.Count{KPI: policyKPI, Service: p.path, Numerator: compliant, Denominator: 1})

	vc, vm, err := c.vulnerabilities(ctx, p, team)
	if err != nil {
		return nil, nil, err
	}
	counts = append(counts, vc...)
	metrics = append(metrics, vm...)

	if (c.cfg.DORAAPI == nil || *c.cfg.DORAAPI) && !c.noDORA[p.path] {
		for _, m := range doraMetrics {
			v, ok, err := c.doraValue(ctx, p, m, now)
			if err != nil {
				if unavailable(err) {
					c.noDORA[p.path] = true
					c.logger.Info("GitLab DORA API not available for this project (GitLab Ultimate only); ztmm_gitlab_dora_metric is absent for it",
						"project", p.path, "status", status(err))
					break
				}
				return nil, nil, fmt.Errorf("dora metrics: %w", err)
			}
			if ok {
				metrics = append(metrics, doraFamily.Metric(v, c.cfg.Name, team, p.path, string(m)))
			}
		}
	}
	return counts, metrics, nil
}

// doraValue reads one metric; GitLab answers null where it has no data, which client-go's DORAMetric
// would turn into a fake 0, so the body is decoded here.
func (c *Collector) doraValue(ctx context.Context, p *project, m gl.DORAMetricType, now time.Time) (float64, bool, error) {
	start, end := gl.ISOTime(now.Add(-doraWindow)), gl.ISOTime(now)
	all := gl.DORAMetricInterval("all")
	opt := gl.GetDORAMetricsOptions{Metric: &m, Interval: &all, StartDate: &start, EndDate: &end}
	req, err := c.client.NewRequest(http.MethodGet, fmt.Sprintf("projects/%d/dora/metrics", p.id), opt, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return 0, false, err
	}
	var rows []struct {
		Date  string   `json:"date"`
		Value *float64 `json:"value"`
	}
	if _, err := c.client.Do(req, &rows); err != nil {
		return 0, false, err
	}
	if len(rows) == 0 || rows[len(rows)-1].Value == nil {
		return 0, false, nil
	}
	return *rows[len(rows)-1].Value, true, nil
}

type check struct {
	name     string
	ok       bool
	required bool
}

// policy checks the default branch against the release policy: protected, force pushes blocked,
// approval rules requiring at least the configured approvals, and pipelines that must succeed before a
// merge.
func (c *Collector) policy(ctx context.Context, p *project) ([]check, error) {
	rp := c.cfg.ReleasePolicy
	req := func(b *bool) bool { return b == nil || *b }
	want := 1
	if rp.RequiredApprovals != nil {
		want = *rp.RequiredApprovals
	}
	protected, forceBlocked := false, false
	if p.defaultBranch != "" {
		pb, _, err := c.client.ProtectedBranches.GetProtectedBranch(p.id, p.defaultBranch, gl.WithContext(ctx))
		switch {
		case err == nil:
			protected, forceBlocked = true, !pb.AllowForcePush
		case status(err) == http.StatusNotFound:
		default:
			return nil, fmt.Errorf("protected branch: %w", err)
		}
	}
	approvals := 0
	if !c.noApprovals[p.path] {
		rules, _, err := c.client.Projects.GetProjectApprovalRules(p.id, nil, gl.WithContext(ctx))
		switch {
		case err == nil:
			for _, r := range rules {
				approvals = max(approvals, int(r.ApprovalsRequired))
			}
		case unavailable(err):
			// GitLab Free has no approval rules: merge requests cannot require approvals there.
			c.noApprovals[p.path] = true
			c.logger.Info("GitLab approval rules not available (Premium and above); the project cannot meet the approvals part of the release policy",
				"project", p.path, "status", status(err))
		default:
			return nil, fmt.Errorf("approval rules: %w", err)
		}
	}
	return []check{
		{"protected", protected, req(rp.RequirePullRequest)},
		{"force_push_blocked", protected && forceBlocked, req(rp.BlockForcePushes)},
		{"approvals", approvals >= want, want > 0},
		{"pipeline_must_succeed", p.pipelineMust, req(rp.RequireStatusChecks)},
	}, nil
}

// vulnerabilities counts open vulnerabilities by severity and measures the resolution time of resolved
// high and critical ones. Ultimate only: elsewhere the counts are absent, not zero.
func (c *Collector) vulnerabilities(ctx context.Context, p *project, team string) ([]collectors.Count, []prometheus.Metric, error) {
	if c.noVulns[p.path] {
		p.vulnObs = nil
		return nil, nil, nil
	}
	vs, err := gl.ScanAndCollect(func(o gl.PaginationOptionFunc) ([]*gl.ProjectVulnerability, *gl.Response, error) {
		return c.client.ProjectVulnerabilities.ListProjectVulnerabilities(p.id,
			&gl.ListProjectVulnerabilitiesOptions{ListOptions: gl.ListOptions{PerPage: perPage}}, gl.WithContext(ctx), o)
	})
	if err != nil {
		if unavailable(err) {
			c.noVulns[p.path] = true
			c.logger.Info("GitLab vulnerabilities API not available for this project (GitLab Ultimate only)", "project", p.path, "status", status(err))
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("vulnerabilities: %w", err)
	}
	open := map[string]float64{}
	var obs []collectors.Observation
	for _, v := range vs {
		switch v.State {
		case "detected", "confirmed":
			open[v.Severity]++
		case "resolved":
			if v.ResolvedAt == nil || v.CreatedAt == nil || v.ResolvedAt.Before(c.since) {
				continue
			}
			d := v.ResolvedAt.Sub(*v.CreatedAt).Seconds()
			if v.Severity == "critical" || v.Severity == "high" {
				obs = append(obs, collectors.Observation{KPI: appVulnKPI, Service: p.path, Time: *v.ResolvedAt, Value: d})
			}
			if v.Severity == "critical" {
				obs = append(obs, collectors.Observation{KPI: vulnKPI, Service: p.path, Time: *v.ResolvedAt, Value: d})
			}
		}
	}
	var metrics []prometheus.Metric
	for _, s := range severities {
		metrics = append(metrics, vulnFamily.Metric(open[s], c.cfg.Name, team, p.path, s))
	}
	p.vulnObs = obs
	return []collectors.Count{{KPI: openCriticalKPI, Service: p.path, Numerator: open["critical"]}}, metrics, nil
}
