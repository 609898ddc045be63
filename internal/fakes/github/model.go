package github

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Profile is how a team ships: its cadence, lead time, failures, and how well its repositories are
// protected. Rates are per day unless named otherwise.
type Profile struct {
	Team              string
	CommitsPerDay     float64
	DeploysPerDay     float64
	LeadTime          time.Duration // typical delay between a commit and the deployment that picks it up
	DeployDuration    time.Duration // deployment start → terminal status
	FailureRate       float64       // share of production attempts ending in failure/error
	RollbackRate      float64       // share of deployments that redeploy an older SHA
	HotfixRate        float64       // share of deployments of a commit off the main line (diverged)
	ManualRate        float64       // share of deployments created by a person
	IncidentsPerMonth float64
	RecoveryTime      time.Duration // incident opened → closed
	ScansPerDay       float64
	ScanDuration      time.Duration
	IaCRunsPerDay     float64 // runs of terraform-apply.yml (0: not an IaC repository)
	IaCDuration       time.Duration
	AlertsPerMonth    float64 // Dependabot alerts raised
	AlertFixTime      time.Duration
	// Protection is how the default branch is protected: "protection" (classic branch protection meeting
	// the release policy), "rules" (rulesets meeting it, no classic protection), "partial" (protection
	// without required status checks, force pushes allowed), "none".
	Protection string
}

// Profiles of the demo organization's teams: storefront ships several times a day (elite), payments
// daily, identity and platform a few times a week, data weekly with long lead times and more failures.
var (
	ProfileElite = Profile{CommitsPerDay: 8, DeploysPerDay: 10, LeadTime: 10 * time.Minute, DeployDuration: 4 * time.Minute,
		FailureRate: 0.02, RollbackRate: 0.01, HotfixRate: 0.01, ManualRate: 0.01, IncidentsPerMonth: 0.5,
		RecoveryTime: 10 * time.Minute, ScansPerDay: 4, ScanDuration: 6 * time.Minute, AlertsPerMonth: 2,
		AlertFixTime: 3 * time.Hour, Protection: "protection"}
	ProfileHigh = Profile{CommitsPerDay: 5, DeploysPerDay: 1.2, LeadTime: 3 * time.Hour, DeployDuration: 8 * time.Minute,
		FailureRate: 0.06, RollbackRate: 0.03, HotfixRate: 0.02, ManualRate: 0.03, IncidentsPerMonth: 1,
		RecoveryTime: 40 * time.Minute, ScansPerDay: 2, ScanDuration: 9 * time.Minute, AlertsPerMonth: 3,
		AlertFixTime: 20 * time.Hour, Protection: "rules"}
	ProfileMedium = Profile{CommitsPerDay: 3, DeploysPerDay: 0.4, LeadTime: 20 * time.Hour, DeployDuration: 12 * time.Minute,
		FailureRate: 0.1, RollbackRate: 0.05, HotfixRate: 0.03, ManualRate: 0.2, IncidentsPerMonth: 1.5,
		RecoveryTime: 3 * time.Hour, ScansPerDay: 1, ScanDuration: 14 * time.Minute, AlertsPerMonth: 3,
		AlertFixTime: 4 * 24 * time.Hour, Protection: "protection"}
	ProfileSlow = Profile{CommitsPerDay: 2, DeploysPerDay: 1.0 / 7, LeadTime: 4 * 24 * time.Hour, DeployDuration: 25 * time.Minute,
		FailureRate: 0.25, RollbackRate: 0.1, HotfixRate: 0.05, ManualRate: 0.6, IncidentsPerMonth: 2,
		RecoveryTime: 30 * time.Hour, ScansPerDay: 0.5, ScanDuration: 25 * time.Minute, AlertsPerMonth: 4,
		AlertFixTime: 12 * 24 * time.Hour, Protection: "partial"}
)

// commit is a commit of a repository: main-line commit i, or a hotfix off main-line commit i.
type commit struct {
	idx    int
	hotfix bool
	sha    string
	author time.Time
}

type status struct {
	id    int64
	state string
	at    time.Time
}

type deployment struct {
	id       int64
	sha      string
	env      string
	created  time.Time
	manual   bool
	statuses []status // oldest first; an inactive status is added when a later success supersedes it
}

type job struct {
	id             int64
	name           string
	started, ended time.Time
	conclusion     string
}

type run struct {
	id         int64
	name, path string
	event      string
	sha        string
	created    time.Time
	ended      time.Time
	conclusion string
	jobs       []job
}

type issue struct {
	number  int
	id      int64
	title   string
	labels  []string
	created time.Time
	closed  time.Time // zero: stays open
	reason  string
}

type alert struct {
	number   int
	severity string
	created  time.Time
	fixed    time.Time
}

// repo is the generated history of one repository, extended day by day as the clock moves.
type repo struct {
	index   int
	owner   string
	name    string
	profile Profile
	central bool // the incident / access-request repository

	days        int // days generated from the history start
	main        []commit
	hotfixes    []commit
	bySHA       map[string]commit
	deployments []*deployment // creation order
	runs        []*run
	issues      []*issue
	alerts      []*alert
	lastSuccess *deployment
	deploySeq   int64
	runSeq      int64
}

func (r *repo) full() string { return r.owner + "/" + r.name }

func hash64(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprint(h, p, "\x00")
	}
	return h.Sum64()
}

func sha(parts ...any) string {
	h := sha1.New()
	for _, p := range parts {
		fmt.Fprint(h, p, "\x00")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// count draws how many events of a daily rate happen on one day.
func count(rng *rand.Rand, rate float64) int {
	n := int(rate)
	if rng.Float64() < rate-float64(n) {
		n++
	}
	return n
}

func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.4 + 1.2*rng.Float64()))
}

// generateDay appends the events that start on day d (0 = the history start's day). Each day has its own
// random stream, so the history is a function of the seed alone and extending it never changes the past.
func (s *Server) generateDay(r *repo, d int) {
	day := s.start.AddDate(0, 0, d)
	rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), hash64(r.full(), d)))
	p := r.profile
	at := func(fromH, toH float64) time.Time {
		return day.Add(time.Duration((fromH + rng.Float64()*(toH-fromH)) * float64(time.Hour))).Truncate(time.Second)
	}
	if r.central {
		s.generateCentral(r, d, day)
		return
	}
	// Commits on the main line, 07:00-19:00.
	var times []time.Time
	for range count(rng, p.CommitsPerDay) {
		times = append(times, at(7, 19))
	}
	sortTimes(times)
	for _, t := range times {
		c := commit{idx: len(r.main), author: t}
		c.sha = sha(s.opts.Seed, r.full(), "main", c.idx)
		r.main = append(r.main, c)
		r.bySHA[c.sha] = c
	}
	// Deployments, 08:00-20:00, each preceded by a staging deployment.
	var dts []time.Time
	for range count(rng, p.DeploysPerDay) {
		dts = append(dts, at(8, 20))
	}
	sortTimes(dts)
	for _, t := range dts {
		head := r.headAt(t.Add(-jitter(rng, p.LeadTime)))
		if head == nil {
			continue
		}
		target := *head
		roll := rng.Float64()
		switch {
		case roll < p.RollbackRate && r.lastSuccess != nil:
			if prev := r.before(r.lastSuccess); prev != nil {
				target = r.bySHA[prev.sha]
			}
		case roll < p.RollbackRate+p.HotfixRate:
			h := commit{idx: head.idx, hotfix: true, author: t.Add(-10 * time.Minute)}
			h.sha = sha(s.opts.Seed, r.full(), "hotfix", head.idx, len(r.hotfixes))
			r.hotfixes = append(r.hotfixes, h)
			r.bySHA[h.sha] = h
			target = h
		}
		manual := rng.Float64() < p.ManualRate
		s.addDeployment(r, target.sha, "staging", t.Add(-15*time.Minute), manual, "success", p.DeployDuration)
		outcome := "success"
		if f := rng.Float64(); f < p.FailureRate {
			outcome = "failure"
			if f < p.FailureRate/4 {
				outcome = "error"
			}
		}
		dep := s.addDeployment(r, target.sha, "production", t, manual, outcome, jitter(rng, p.DeployDuration))
		event := "push"
		if manual {
			event = "workflow_dispatch"
		}
		conclusion := "success"
		if outcome != "success" {
			conclusion = "failure"
		}
		s.addRun(r, "Deploy", ".github/workflows/deploy.yml", event, target.sha, t, dep.statuses[len(dep.statuses)-1].at, conclusion, "deploy")
	}
	// Security scans (CodeQL) and IaC runs.
	for range count(rng, p.ScansPerDay) {
		t := at(6, 22)
		head := r.headAt(t)
		if head == nil {
			continue
		}
		d := jitter(rng, p.ScanDuration)
		s.addRun(r, "CodeQL", ".github/workflows/codeql.yml", "push", head.sha, t, t.Add(d+time.Minute), "success", "Analyze (go)")
	}
	for range count(rng, p.IaCRunsPerDay) {
		t := at(8, 18)
		head := r.headAt(t)
		if head == nil {
			continue
		}
		conclusion := "success"
		if rng.Float64() < 0.05 {
			conclusion = "failure"
		}
		s.addRun(r, "Terraform apply", ".github/workflows/terraform-apply.yml", "push", head.sha, t, t.Add(jitter(rng, p.IaCDuration)), conclusion, "apply")
	}
	// Dependabot alerts: a third critical, a third high.
	for range count(rng, p.AlertsPerMonth/30) {
		a := &alert{number: len(r.alerts) + 1, created: at(0, 24)}
		a.severity = []string{"critical", "high", "medium", "low", "high", "critical"}[rng.IntN(6)]
		fix := jitter(rng, p.AlertFixTime)
		if a.severity == "critical" {
			fix /= 2
		}
		if rng.Float64() < 0.9 {
			a.fixed = a.created.Add(fix)
		}
		r.alerts = append(r.alerts, a)
	}
}

// generateCentral generates the central repository's day: incidents and access requests of every service.
func (s *Server) generateCentral(r *repo, d int, day time.Time) {
	pillars := []string{"applications", "applications", "applications", "infrastructure", "identities", "data", "network", "endpoints"}
	for _, svc := range s.repos {
		if svc.central {
			continue
		}
		rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), hash64(svc.full(), d, "central")))
		p := svc.profile
		for range count(rng, p.IncidentsPerMonth/30) {
			created := day.Add(time.Duration(rng.Float64() * float64(24*time.Hour))).Truncate(time.Second)
			in := &issue{title: "Incident: " + svc.name + " degraded", created: created,
				labels: []string{"incident", "service:" + svc.name, "pillar:" + pillars[rng.IntN(len(pillars))]}}
			if rng.Float64() < 0.4 {
				in.labels = append(in.labels, "security")
			}
			in.closed, in.reason = created.Add(jitter(rng, p.RecoveryTime)), "completed"
			s.addIssue(r, in)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), hash64(r.full(), d, "access")))
	// Privileged requests are fulfilled in minutes (mostly meeting 300 s), data requests in hours.
	for range count(rng, 2) {
		created := day.Add(time.Duration((8 + rng.Float64()*10) * float64(time.Hour))).Truncate(time.Second)
		in := &issue{title: "Access request: production admin", created: created, labels: []string{"access-request:privileged"},
			closed: created.Add(jitter(rng, 4*time.Minute)), reason: "completed"}
		s.addIssue(r, in)
	}
	for range count(rng, 1) {
		created := day.Add(time.Duration((8 + rng.Float64()*10) * float64(time.Hour))).Truncate(time.Second)
		in := &issue{title: "Access request: analytics dataset", created: created, labels: []string{"access-request:data"},
			closed: created.Add(jitter(rng, 3*time.Hour)), reason: "completed"}
		if rng.Float64() < 0.1 {
			in.reason = "not_planned"
		}
		s.addIssue(r, in)
	}
}

func (s *Server) addIssue(r *repo, in *issue) {
	in.number = len(r.issues) + 1
	in.id = int64(r.index+1)*10_000_000 + int64(in.number)
	r.issues = append(r.issues, in)
}

func (s *Server) addDeployment(r *repo, sha, env string, t time.Time, manual bool, outcome string, dur time.Duration) *deployment {
	r.deploySeq++
	dep := &deployment{id: int64(r.index+1)*10_000_000 + r.deploySeq, sha: sha, env: env, created: t, manual: manual}
	dep.statuses = []status{{id: dep.id*4 + 0, state: "in_progress", at: t.Add(20 * time.Second)},
		{id: dep.id*4 + 1, state: outcome, at: t.Add(dur)}}
	if outcome == "success" && env == "production" {
		if prev := r.lastSuccess; prev != nil {
			prev.statuses = append(prev.statuses, status{id: prev.id*4 + 2, state: "inactive", at: t.Add(dur)})
		}
		r.lastSuccess = dep
	}
	r.deployments = append(r.deployments, dep)
	return dep
}

func (s *Server) addRun(r *repo, name, path, event, sha string, start, end time.Time, conclusion, jobName string) {
	r.runSeq++
	id := int64(r.index+1)*10_000_000 + r.runSeq
	rn := &run{id: id, name: name, path: path, event: event, sha: sha, created: start, ended: end, conclusion: conclusion}
	rn.jobs = []job{{id: id*10 + 2, name: jobName, started: start.Add(45 * time.Second), ended: end.Add(-5 * time.Second), conclusion: conclusion}}
	if jobName != "Analyze (go)" { // CodeQL's default workflow has only its analyze job
		rn.jobs = append([]job{{id: id*10 + 1, name: "setup", started: start.Add(10 * time.Second), ended: start.Add(40 * time.Second), conclusion: "success"}}, rn.jobs...)
	}
	r.runs = append(r.runs, rn)
}

// headAt is the newest main-line commit authored at or before t.
func (r *repo) headAt(t time.Time) *commit {
	for i := len(r.main) - 1; i >= 0; i-- {
		if !r.main[i].author.After(t) {
			return &r.main[i]
		}
	}
	return nil
}

// before is the successful production deployment before d, if any.
func (r *repo) before(d *deployment) *deployment {
	var prev *deployment
	for _, x := range r.deployments {
		if x == d {
			return prev
		}
		if x.env == "production" && x.statuses[1].state == "success" {
			prev = x
		}
	}
	return nil
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// compare returns the commits in head not in base (oldest first) and the count of commits in base not
// in head, as GitHub's compare API reports them.
func (r *repo) compare(base, head commit) (ahead []commit, behind int) {
	for i := base.idx + 1; i <= head.idx; i++ {
		ahead = append(ahead, r.main[i])
	}
	if head.hotfix && head.sha != base.sha {
		ahead = append(ahead, head)
	}
	behind = max(0, base.idx-head.idx)
	if base.hotfix && head.sha != base.sha {
		behind++
	}
	return ahead, behind
}
