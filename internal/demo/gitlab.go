package demo

import (
	"context"
	"fmt"
	"time"

	fakegitlab "github.com/ztmm/ztmm/internal/fakes/gitlab"
)

// The demo's GitLab: teams mobile (missing the DORA targets) and logistics (meeting them, with an IaC
// project), so organization values pool two hosts.
func init() {
	parts = append(parts, func(_ context.Context, d *Demo, opts Options, data *configData) error {
		since, err := time.Parse(time.DateOnly, data.Since)
		if err != nil {
			return err
		}
		url, err := d.serve(fakegitlab.New(fakegitlab.Options{
			Projects: fakegitlab.DemoProjects(), Start: since, Now: opts.Now, Seed: uint64(opts.Seed), Token: demoToken,
			// As for GitHub: the first sync reads all history at once, and the demo should not make people wait.
			RateLimit: 100_000,
		}))
		if err != nil {
			return err
		}
		if err := d.write("gitlab-token", []byte(demoToken+"\n")); err != nil {
			return err
		}
		data.Extra = append(data.Extra, fmt.Sprintf(`gitlab:
  - name: gitlab
    base_url: %s
    token_file: gitlab-token
    groups: [mobile, logistics]
    interval: 2m
    timeout: 2m`, url))
		return nil
	})
}
