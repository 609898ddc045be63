package config

import (
	"fmt"
	"strings"
	"time"
)

// DefaultProductionEnvironments is SPEC section 3's default production pattern.
const DefaultProductionEnvironments = `(?i)^(prod|production)$`

// DefaultScanJobs matches the usual names of security-scan jobs (CodeQL, Trivy, Snyk, Semgrep, Gitleaks,
// GitLab's SAST, dependency/container scanning and secret detection templates).
const DefaultScanJobs = `(?i)(codeql|trivy|snyk|semgrep|gitleaks|grype|sast|dependency[-_ ]scanning|container[-_ ]scanning|secret[-_ ]detection|security[-_ ]scan)`

// Incidents says which issues are incidents and how their labels attribute them.
type Incidents struct {
	Labels []string `yaml:"labels"` // GitHub: an issue with any of these is an incident (default [incident])
	// Repositories are central incident repositories (owner/repo or group/project); their incidents name
	// the service in a label ServiceLabelPrefix+<service>.
	Repositories       []string `yaml:"repositories"`
	ServiceLabelPrefix string   `yaml:"service_label_prefix"` // default "service:"
	PillarLabelPrefix  string   `yaml:"pillar_label_prefix"`  // default "pillar:"
	SecurityLabel      string   `yaml:"security_label"`       // default "security"
}

func (in *Incidents) defaults() {
	if len(in.Labels) == 0 {
		in.Labels = []string{"incident"}
	}
	if in.ServiceLabelPrefix == "" {
		in.ServiceLabelPrefix = "service:"
	}
	if in.PillarLabelPrefix == "" {
		in.PillarLabelPrefix = "pillar:"
	}
	if in.SecurityLabel == "" {
		in.SecurityLabel = "security"
	}
}

// AccessRequests are issues that request access; created→closed is the fulfillment time.
type AccessRequests struct {
	PrivilegedLabels []string `yaml:"privileged_labels"` // default [access-request:privileged]
	DataLabels       []string `yaml:"data_labels"`       // default [access-request:data]
	Repositories     []string `yaml:"repositories"`      // where they are filed; default: every synced repository
}

func (a *AccessRequests) defaults() {
	if len(a.PrivilegedLabels) == 0 {
		a.PrivilegedLabels = []string{"access-request:privileged"}
	}
	if len(a.DataLabels) == 0 {
		a.DataLabels = []string{"access-request:data"}
	}
}

// ReleasePolicy is what the default branch must enforce for a service to count as compliant
// (security_policy_compliance_rate). Each part can be switched off.
type ReleasePolicy struct {
	RequirePullRequest  *bool `yaml:"require_pull_request"`  // default true
	RequiredApprovals   *int  `yaml:"required_approvals"`    // default 1
	RequireStatusChecks *bool `yaml:"require_status_checks"` // default true
	BlockForcePushes    *bool `yaml:"block_force_pushes"`    // default true
}

func (r *ReleasePolicy) defaults() {
	t, one := true, 1
	if r.RequirePullRequest == nil {
		r.RequirePullRequest = &t
	}
	if r.RequiredApprovals == nil {
		r.RequiredApprovals = &one
	}
	if r.RequireStatusChecks == nil {
		r.RequireStatusChecks = &t
	}
	if r.BlockForcePushes == nil {
		r.BlockForcePushes = &t
	}
}

// GitHub is a GitHub.com or GitHub Enterprise Server source.
type GitHub struct {
	Name      string `yaml:"name"`     // default "github"
	BaseURL   string `yaml:"base_url"` // default https://api.github.com/; GHES: https://HOST/api/v3/
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	App       *App   `yaml:"app"`

	Organizations []string `yaml:"organizations"`
	Repositories  []string `yaml:"repositories"` // explicit owner/repo list
	Include       Globs    `yaml:"include"`      // owner/repo patterns; default all
	Exclude       Globs    `yaml:"exclude"`

	ProductionEnvironments Regexp `yaml:"production_environments"`
	// DeploymentWorkflows, when set, makes successful runs of these workflows (file names, e.g. deploy.yml)
	// the deployments instead of the Deployments API.
	DeploymentWorkflows Globs  `yaml:"deployment_workflows"`
	IaCWorkflows        Globs  `yaml:"iac_workflows"` // runs feed infrastructure_provisioning_time
	ScanJobs            Regexp `yaml:"scan_jobs"`     // job names feeding security_scan_completion_time
	// ScanWorkflows are the workflows (file names) whose runs' jobs are listed to find scan jobs; default:
	// runs whose workflow name matches scan_jobs. Listing jobs costs one request per run, so it is scoped.
	ScanWorkflows Globs `yaml:"scan_workflows"`
	// Concurrency is how many repositories are synced at once (default 4; GitHub asks integrations to
	// avoid many concurrent requests, or secondary rate limits apply).
	Concurrency int `yaml:"concurrency"`

	Incidents      Incidents      `yaml:"incidents"`
	AccessRequests AccessRequests `yaml:"access_requests"`
	ReleasePolicy  ReleasePolicy  `yaml:"release_policy"`

	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
}

// App is a GitHub App installation used instead of a token.
type App struct {
	AppID          int64  `yaml:"app_id"`
	InstallationID int64  `yaml:"installation_id"`
	PrivateKeyFile string `yaml:"private_key_file"`
	PrivateKey     Secret `yaml:"-"`
}

func (g *GitHub) validate(c *Config, p string, checkName func(p, name, kind string) error) error {
	g.SetDefaults()
	if err := checkName(p, g.Name, "github"); err != nil {
		return err
	}
	if _, err := c.checkURL(p+".base_url", g.BaseURL, true); err != nil {
		return err
	}
	if !strings.HasSuffix(g.BaseURL, "/") {
		g.BaseURL += "/"
	}
	if g.App != nil {
		if g.Token.IsSet() || g.TokenFile != "" {
			return c.fail(p+".app", "expected either a token or a GitHub App, not both")
		}
		if g.App.AppID <= 0 || g.App.InstallationID <= 0 {
			return c.fail(p+".app", "expected app_id and installation_id, both positive numbers")
		}
		if g.App.PrivateKeyFile == "" {
			return c.fail(p+".app.private_key_file", "expected the path of the App's private key (PEM)")
		}
		s, err := readSecretFile(c.Path(g.App.PrivateKeyFile))
		if err != nil {
			return c.fail(p+".app.private_key_file", "%v", err)
		}
		g.App.PrivateKey = s
	} else if err := c.secret(p, "token", &g.Token, g.TokenFile, true); err != nil {
		return err
	}
	if len(g.Organizations) == 0 && len(g.Repositories) == 0 {
		return c.fail(p, "expected organizations or repositories to sync, e.g. organizations: [acme]")
	}
	for i, o := range g.Organizations {
		if o == "" || strings.Contains(o, "/") {
			return c.fail(fmt.Sprintf("%s.organizations[%d]", p, i), "expected an organization name like acme, got %q (list single repositories as owner/repo under repositories)", o)
		}
	}
	for _, l := range []struct {
		field string
		repos []string
	}{{"repositories", g.Repositories}, {"incidents.repositories", g.Incidents.Repositories}, {"access_requests.repositories", g.AccessRequests.Repositories}} {
		if err := c.checkRepos(p+"."+l.field, l.repos, false); err != nil {
			return err
		}
	}
	if err := c.checkSelection(p, g.Include, g.Exclude); err != nil {
		return err
	}
	if err := g.ScanWorkflows.check(); err != nil {
		return c.fail(p+".scan_workflows", "%v", err)
	}
	if g.Concurrency < 1 || g.Concurrency > 32 {
		return c.fail(p+".concurrency", "expected 1 to 32 repositories synced at once, got %d", g.Concurrency)
	}
	if *g.ReleasePolicy.RequiredApprovals < 0 || *g.ReleasePolicy.RequiredApprovals > 6 {
		return c.fail(p+".release_policy.required_approvals", "expected 0 to 6 approvals (GitHub's range), got %d", *g.ReleasePolicy.RequiredApprovals)
	}
	return c.schedule(p, &g.Interval, &g.Timeout, 5*time.Minute)
}

// GitLab is a GitLab.com or self-managed GitLab source.
type GitLab struct {
	Name      string `yaml:"name"`     // default "gitlab"
	BaseURL   string `yaml:"base_url"` // default https://gitlab.com/
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`

	Groups   []string `yaml:"groups"`   // subgroups included
	Projects []string `yaml:"projects"` // explicit group/project list
	Include  Globs    `yaml:"include"`
	Exclude  Globs    `yaml:"exclude"`

	ProductionEnvironments Regexp `yaml:"production_environments"` // or tier production
	ScanJobs               Regexp `yaml:"scan_jobs"`
	IaCPipelines           Regexp `yaml:"iac_pipelines"` // job or pipeline names feeding infrastructure_provisioning_time

	Incidents      Incidents      `yaml:"incidents"`
	AccessRequests AccessRequests `yaml:"access_requests"`
	ReleasePolicy  ReleasePolicy  `yaml:"release_policy"`
	// DORAAPI also exposes GitLab's own DORA values (Ultimate) beside ztmm's; default true.
	DORAAPI *bool `yaml:"dora_api"`

	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
}

func (g *GitLab) validate(c *Config, p string, checkName func(p, name, kind string) error) error {
	g.SetDefaults()
	if err := checkName(p, g.Name, "gitlab"); err != nil {
		return err
	}
	if _, err := c.checkURL(p+".base_url", g.BaseURL, true); err != nil {
		return err
	}
	if err := c.secret(p, "token", &g.Token, g.TokenFile, true); err != nil {
		return err
	}
	if len(g.Groups) == 0 && len(g.Projects) == 0 {
		return c.fail(p, "expected groups or projects to sync, e.g. groups: [platform]")
	}
	for _, l := range []struct {
		field string
		repos []string
	}{{"projects", g.Projects}, {"incidents.repositories", g.Incidents.Repositories}, {"access_requests.repositories", g.AccessRequests.Repositories}} {
		if err := c.checkRepos(p+"."+l.field, l.repos, true); err != nil {
			return err
		}
	}
	if err := c.checkSelection(p, g.Include, g.Exclude); err != nil {
		return err
	}
	return c.schedule(p, &g.Interval, &g.Timeout, 5*time.Minute)
}

// DefaultIaCPipelines matches the usual names of infrastructure-as-code pipelines and jobs.
const DefaultIaCPipelines = `(?i)(terraform|tofu|pulumi|\biac\b|infrastructure)`

// SetDefaults fills the defaults validation would, for a GitLab source built in code (tests, the demo)
// rather than decoded from a file. Values already set are kept.
func (g *GitLab) SetDefaults() {
	if g.Name == "" {
		g.Name = "gitlab"
	}
	if g.BaseURL == "" {
		g.BaseURL = "https://gitlab.com/"
	}
	if g.ProductionEnvironments.Regexp == nil {
		g.ProductionEnvironments = MustRegexp(DefaultProductionEnvironments)
	}
	if g.ScanJobs.Regexp == nil {
		g.ScanJobs = MustRegexp(DefaultScanJobs)
	}
	if g.IaCPipelines.Regexp == nil {
		g.IaCPipelines = MustRegexp(DefaultIaCPipelines)
	}
	if g.DORAAPI == nil {
		t := true
		g.DORAAPI = &t
	}
	g.Incidents.defaults()
	g.AccessRequests.defaults()
	g.ReleasePolicy.defaults()
}

// SetDefaults fills the defaults validation would, for a GitHub source built in code (tests, the demo)
// rather than decoded from a file. Values already set are kept.
func (g *GitHub) SetDefaults() {
	if g.Name == "" {
		g.Name = "github"
	}
	if g.BaseURL == "" {
		g.BaseURL = "https://api.github.com/"
	}
	if g.ProductionEnvironments.Regexp == nil {
		g.ProductionEnvironments = MustRegexp(DefaultProductionEnvironments)
	}
	if g.ScanJobs.Regexp == nil {
		g.ScanJobs = MustRegexp(DefaultScanJobs)
	}
	if g.Concurrency == 0 {
		g.Concurrency = 4
	}
	g.Incidents.defaults()
	g.AccessRequests.defaults()
	g.ReleasePolicy.defaults()
}

// checkSelection checks the include and exclude patterns of a Git host's repositories or projects.
func (c *Config) checkSelection(p string, include, exclude Globs) error {
	if err := include.check(); err != nil {
		return c.fail(p+".include", "%v", err)
	}
	if err := exclude.check(); err != nil {
		return c.fail(p+".exclude", "%v", err)
	}
	return nil
}
