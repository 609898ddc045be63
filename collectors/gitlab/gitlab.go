// Package gitlab is the GitLab source (GitLab.com or self-managed): it turns projects' deployments,
// compares, incidents, jobs, pipelines, default-branch settings and vulnerabilities into the shared DORA
// engine's events and the release KPIs' observations and counts, and exposes GitLab's own DORA values
// (Ultimate) as a raw family beside ztmm's, so users can compare the two.
//
// Sync is incremental: deployments, issues and pipelines are listed with updated_after from the last
// cursor (minus an overlap, de-duplicated by id), jobs newest first by keyset pagination until the pages
// reach what the previous sync saw, and compares are cached forever (a pair of SHAs never changes).
//
// Compare status. GitLab's compare API has no ahead/behind status; it lists the commits reachable from
// `to` but not from `from`. For consecutive production deployments P (SHA p) and D (SHA d) one call
// compare(from=p, to=d) decides:
//   - p == d: identical (no call);
//   - no commits: d is reachable from p, so production moved backwards: behind (a rollback);
//   - commits, one of them with parent p: p is an ancestor of d: ahead;
//   - commits, none with parent p: p is not an ancestor of d although d has commits p lacks: diverged.
//
// This is the same answer as comparing both ways (commits both ways = diverged, only reverse = behind)
// at half the requests: if p is an ancestor of d, the first commit after p on the path to d is in the
// list and has p as a parent. Changes are the listed commits either way.
package gitlab

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/dora"
)

var _ collectors.Source = (*Collector)(nil)

// Collector is a GitLab source. Sync keeps incremental state; it is never called concurrently.
type Collector struct {
	cfg    config.GitLab
	since  time.Time
	teamOf func(string) string
	logger *slog.Logger
	client *gl.Client
	now    func() time.Time
	base   http.RoundTripper

	projects map[string]*project // by path_with_namespace
	compares map[[3]string]compareResult
	// noDORA and noVulns remember projects whose licence lacks the feature, so each is said once.
	noDORA, noVulns, noApprovals map[string]bool
	noGraphQL                    bool
}

// project is one project's incremental state.
type project struct {
	id            int64
	path          string
	defaultBranch string
	pipelineMust  bool

	envTier     map[string]string // environment name → tier
	deployments map[int64]*gl.Deployment
	depCursor   time.Time
	manual      map[int64]bool // deploy job id → manual job (GraphQL)
	issues      map[int64]*gl.Issue
	issueCursor time.Time
	scans       map[int64]collectors.Observation // job id → scan duration
	iac         map[int64]collectors.Observation // pipeline id → IaC duration
	iacPipeline map[int64]bool                   // pipelines whose own name matched
	jobsSeen    time.Time                        // created_at horizon of the last jobs listing
	pipeCursor  time.Time
	vulnObs     []collectors.Observation // resolution times of resolved high/critical vulnerabilities
}

type compareResult struct {
	status  dora.CompareStatus
	changes []dora.Change
}

// overlap re-reads a little before each cursor: GitLab's updated_after is strict and timestamps can
// tie, and a job may finish well after jobs with higher ids were created.
const (
	overlap     = time.Minute
	jobsHorizon = 6 * time.Hour
	perPage     = 100
	graphQLMax  = 50 // jobs per GraphQL query
	doraWindow  = 30 * 24 * time.Hour
)

// Option adjusts a collector for tests and the demo.
type Option func(*Collector)

// WithClock replaces time.Now (the demo's simulated clock; rate-limit resets are judged against it).
func WithClock(now func() time.Time) Option { return func(c *Collector) { c.now = now } }

// WithTransport replaces http.DefaultTransport under the collector's own layers.
func WithTransport(rt http.RoundTripper) Option { return func(c *Collector) { c.base = rt } }

// New returns a GitLab source. since is the history start: nothing older is fetched or counted.
func New(cfg config.GitLab, since time.Time, teamOf func(string) string, tel *collectors.Telemetry, logger *slog.Logger, opts ...Option) (*Collector, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if teamOf == nil {
		teamOf = func(string) string { return "" }
	}
	cfg.SetDefaults()
	c := &Collector{cfg: cfg, since: since, teamOf: teamOf, logger: logger.With("collector", cfg.Name), now: time.Now,
		projects: map[string]*project{}, compares: map[[3]string]compareResult{},
		noDORA: map[string]bool{}, noVulns: map[string]bool{}, noApprovals: map[string]bool{}, base: http.DefaultTransport}
	for _, o := range opts {
		o(c)
	}
	rt := c.base
	if tel != nil {
		rt = tel.Transport(cfg.Name, rt)
	}
	rt = &budget{next: rt, collector: cfg.Name, tel: tel, now: func() time.Time { return c.now() }}
	client, err := newClient(cfg.Token.Value(), strings.TrimSuffix(cfg.BaseURL, "/"), rt)
	if err != nil {
		return nil, fmt.Errorf("gitlab %s: %w", cfg.Name, err)
	}
	c.client = client
	return c, nil
}

// Name is the configured instance name.
func (c *Collector) Name() string { return c.cfg.Name }

// Kind is "gitlab".
func (c *Collector) Kind() string { return "gitlab" }

// Sync fetches what changed since the last sync and returns the complete snapshot.
func (c *Collector) Sync(ctx context.Context) (*collectors.Snapshot, error) {
	snap, err := c.sync(ctx)
	return snap, classify(err, c.now())
}

func (c *Collector) sync(ctx context.Context) (*collectors.Snapshot, error) {
	start := c.now()
	paths, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	snap := &collectors.Snapshot{}
	for _, path := range paths {
		p := c.projects[path]
		if err := c.syncProject(ctx, p, start); err != nil {
			return nil, fmt.Errorf("project %s: %w", path, err)
		}
	}
	in, err := c.events(ctx, paths)
	if err != nil {
		return nil, err
	}
	snap.DORA = in
	for _, path := range paths {
		p := c.projects[path]
		counts, metrics, err := c.current(ctx, p, start)
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", path, err)
		}
		snap.Counts = append(snap.Counts, counts...)
		snap.Metrics = append(snap.Metrics, metrics...)
		snap.Observations = append(snap.Observations, c.observations(p)...)
	}
	snap.Metrics = append(snap.Metrics, projectsFamily.Metric(float64(len(paths)), c.cfg.Name))
	return snap, nil
}

// discover lists the configured groups' projects (subgroups included, archived skipped) and the explicit
// projects, applies include/exclude and refreshes each project's settings.
func (c *Collector) discover(ctx context.Context) ([]string, error) {
	found := map[string]*gl.Project{}
	for _, g := range c.cfg.Groups {
		t := true
		f := false
		opt := &gl.ListGroupProjectsOptions{IncludeSubGroups: &t, Archived: &f,
			ListOptions: gl.ListOptions{OrderBy: "id", Sort: "asc", PerPage: perPage}}
		ps, err := gl.ScanAndCollect(func(p gl.PaginationOptionFunc) ([]*gl.Project, *gl.Response, error) {
			return c.client.Groups.ListGroupProjects(g, opt, gl.WithContext(ctx), p)
		})
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", g, err)
		}
		for _, p := range ps {
			found[p.PathWithNamespace] = p
		}
	}
	for _, path := range c.cfg.Projects {
		if _, ok := found[path]; ok {
			continue
		}
		p, _, err := c.client.Projects.GetProject(path, nil, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", path, err)
		}
		found[p.PathWithNamespace] = p
	}
	var paths []string
	for path, gp := range found {
		if gp.Archived || (len(c.cfg.Include) > 0 && !c.cfg.Include.Match(path)) || c.cfg.Exclude.Match(path) {
			continue
		}
		p := c.projects[path]
		if p == nil {
			p = &project{path: path, deployments: map[int64]*gl.Deployment{}, manual: map[int64]bool{},
				issues: map[int64]*gl.Issue{}, scans: map[int64]collectors.Observation{},
				iac: map[int64]collectors.Observation{}, iacPipeline: map[int64]bool{},
				depCursor: c.since, issueCursor: c.since, pipeCursor: c.since, jobsSeen: c.since}
			c.projects[path] = p
		}
		p.id, p.defaultBranch, p.pipelineMust = gp.ID, gp.DefaultBranch, gp.OnlyAllowMergeIfPipelineSucceeds
		paths = append(paths, path)
	}
	// Projects that left the scope take their events with them.
	for path := range c.projects {
		if !slices.Contains(paths, path) {
			delete(c.projects, path)
		}
	}
	slices.Sort(paths)
	return paths, nil
}

// production reports whether an environment counts as production: its name matches the pattern or its
// tier (environments API) is production.
func (c *Collector) production(p *project, env string) bool {
	return c.cfg.ProductionEnvironments.MatchString(env) || p.envTier[env] == "production"
}

func matches(re config.Regexp, s string) bool { return re.Regexp != nil && re.MatchString(s) }
