package demo

import (
	"context"
	"fmt"
	"time"

	fakegithub "github.com/ztmm/ztmm/internal/fakes/github"
)

// demoToken is the demo's credential: the fakes check it like the real APIs do. It protects nothing.
const demoToken = "demo-token-not-a-secret"

// The demo's GitHub: twelve services in five teams with deployments, rollbacks, incidents, scans, IaC runs,
// access requests and security alerts, from the history start until now and onwards.
func init() {
	parts = append(parts, func(_ context.Context, d *Demo, opts Options, data *configData) error {
		since, err := time.Parse(time.DateOnly, data.Since)
		if err != nil {
			return err
		}
		fo := fakegithub.DemoOptions(opts.Seed, since, opts.Now)
		fo.Token = demoToken
		// The first sync reads the whole history since `since` at once; a real organization of this size
		// fits GitHub's 5,000 requests an hour with a longer first sync, the demo should not make people wait.
		fo.RateLimit = 1_000_000
		url, err := d.serve(fakegithub.New(fo))
		if err != nil {
			return err
		}
		if err := d.write("github-token", []byte(demoToken+"\n")); err != nil {
			return err
		}
		data.Extra = append(data.Extra, fmt.Sprintf(`github:
  - name: github
    base_url: %s
    token_file: github-token
    organizations: [acme]
    iac_workflows: ["terraform-*.yml"]
    incidents: {repositories: [%s]}
    access_requests: {repositories: [%s]}
    interval: 2m
    timeout: 2m`, url, fo.CentralRepo, fo.CentralRepo))
		return nil
	})
}
