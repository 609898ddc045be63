// Package dora turns normalised release events (deployments, changes, attempts, incidents) into the DORA
// four keys and the release KPIs, exactly as SPEC section 3 defines them. It is pure: no I/O, no clock.
// GitHub and GitLab collectors both feed it, so one scenario gives one answer whatever the host.
package dora

import (
	"time"

	"github.com/ztmm/ztmm/internal/catalog"
)

// CompareStatus is the relation of a deployment's SHA to the previous production deployment's SHA, as the
// Git host's compare API reports it (compare(prev…this)).
type CompareStatus string

// Compare statuses. First marks the first deployment known for a service (no previous one).
const (
	First     CompareStatus = ""
	Identical CompareStatus = "identical" // a redeploy of the same SHA: no changes
	Ahead     CompareStatus = "ahead"     // moved forward: the commits are the changes
	Behind    CompareStatus = "behind"    // moved backwards: a rollback
	Diverged  CompareStatus = "diverged"  // forward on another line: the commits ahead are the changes
)

// Change is one commit that a deployment brought to production.
type Change struct {
	SHA        string
	AuthorTime time.Time
}

// Deployment is a successful deployment of a service to production.
type Deployment struct {
	Service string
	ID      string // upstream id, for tie-breaking and logs; never a label
	SHA     string
	Time    time.Time // GitHub: first success status; GitLab: deploy job finished_at
	Manual  bool      // triggered by a person (workflow_dispatch, User creator, GitLab manual job)
	// Status and Changes come from compare(previous successful production deployment … this one), which
	// the collector fetches for the pairs Pairs returns. The first known deployment has Status First and
	// its head commit as its only change.
	Status  CompareStatus
	Changes []Change
}

// Attempt is a production deployment attempt that reached its first terminal status (success, failure,
// error; GitLab success, failed). Canceled and skipped attempts are not finished and are not attempts.
type Attempt struct {
	Service string
	Time    time.Time
	Success bool
	Manual  bool
}

// Incident is an incident of a service (or of none, when only a pillar is known).
type Incident struct {
	Service  string
	Opened   time.Time
	Resolved time.Time // zero while open
	// Pillar is the area a pillar:<name> label attributes it to, for the *_incident_reduction KPIs; empty if none.
	Pillar   catalog.Area
	Security bool
}

// Input is every release event known from the history start (config `since`) until now.
type Input struct {
	Deployments []Deployment
	Attempts    []Attempt
	Incidents   []Incident
}

// Merge returns the union of inputs, for pooling several hosts into one organization.
func Merge(ins ...Input) Input {
	var out Input
	for _, in := range ins {
		out.Deployments = append(out.Deployments, in.Deployments...)
		out.Attempts = append(out.Attempts, in.Attempts...)
		out.Incidents = append(out.Incidents, in.Incidents...)
	}
	return out
}
