package github

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/ztmm/ztmm/internal/dora"
)

// repoState is what the collector remembers of one repository between syncs. Watermarks (depHigh,
// runHigh, issuesSince, alertsHigh) only advance when their listing completed, so a sync that fails half
// way never makes the next one skip items.
type repoState struct {
	full, owner, name, branch string
	service                   bool

	deps    map[int64]*depState
	depHigh int64 // newest deployment id of the last complete listing

	runs    map[int64]*runState
	runHigh int64

	compares map[string]compareResult // by "base...head" SHA pair; a compare never changes
	heads    map[string]time.Time     // author time of first deployments' head commits

	issues      map[int64]issueState
	issuesSince time.Time

	alerts            map[int]alertState
	alertsHigh        time.Time
	alertsUnavailable bool

	policy        *bool     // nil: could not be read
	unprotectedAt time.Time // when classic protection last answered "not protected"
}

func newRepoState(t repoTarget) *repoState {
	return &repoState{full: t.owner + "/" + t.name, owner: t.owner, name: t.name, branch: t.branch, service: t.service,
		deps: map[int64]*depState{}, runs: map[int64]*runState{}, compares: map[string]compareResult{},
		heads: map[string]time.Time{}, issues: map[int64]issueState{}, alerts: map[int]alertState{}}
}

// depState is a production deployment from the Deployments API.
type depState struct {
	id         int64
	sha        string
	created    time.Time
	manual     bool
	success    time.Time // first success status; zero if none
	terminal   time.Time // first terminal status (success, failure, error)
	terminalOK bool      // the first terminal status was a success
}

type timed struct {
	at time.Time
	v  float64
}

type runState struct {
	id               int64
	completed        bool
	conclusion       string
	sha              string
	manual           bool
	started, updated time.Time
	deploy, iac      bool
	scans            []timed // successful scan jobs: completion time, duration in seconds
}

type compareResult struct {
	status  dora.CompareStatus
	changes []dora.Change
}

type issueState struct {
	labels          []string
	created, closed time.Time
	reason          string
}

type alertState struct {
	state, severity string
	created, fixed  time.Time
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
