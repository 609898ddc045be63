package gitlab

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Profile is how a project's team works. It decides the cadence of the generated history and so which
// DORA targets the project meets.
type Profile struct {
	DeploysPerDay float64       // production deployment attempts per day
	LeadTime      time.Duration // typical commit author time → production
	FailureRate   float64       // share of attempts whose deploy job fails
	CancelRate    float64       // share of attempts canceled (not finished, so not an attempt)
	RollbackRate  float64       // share of successful deployments that roll back to the previous SHA
	IncidentRate  float64       // share of successful deployments followed by an incident
	SecurityRate  float64       // share of incidents labelled security
	Recovery      time.Duration // typical incident duration
	ManualRate    float64       // share of deploy jobs that are manual (when: manual)
	ScanDuration  time.Duration // typical SAST/secret-detection job duration
	// IaCDuration > 0 makes the project run "terraform apply" pipelines of about this duration.
	IaCDuration time.Duration
	// AccessRequestsPerDay are privileged/data access-request issues; AccessFulfilment their typical
	// created→closed time.
	AccessRequestsPerDay float64
	AccessFulfilment     time.Duration
	VulnsPerDay          float64       // new critical/high vulnerabilities per day
	VulnResolution       time.Duration // typical detected→resolved time
}

// Policy is a project's default-branch settings, for the release policy.
type Policy struct {
	Unprotected            bool // the default branch is not protected
	AllowForcePush         bool
	ApprovalsRequired      int
	PipelineMustNotSucceed bool // only_allow_merge_if_pipeline_succeeds false
}

// Project is one generated project.
type Project struct {
	Path     string // group[/subgroup]/project
	Archived bool
	Profile  Profile
	Policy   Policy
	// ProductionEnvironment is the name of the environment of tier production; default "production".
	ProductionEnvironment string
	// Script, if set, is the project's whole history instead of one generated from Profile: tests use it
	// to replay an exact scenario.
	Script *Script
}

// Script is an exact history on a linear default branch.
type Script struct {
	Commits     []ScriptCommit // commit i has commit i-1 as its parent
	Deployments []ScriptDeployment
	Incidents   []ScriptIncident
}

// ScriptCommit is one commit of a script.
type ScriptCommit struct{ Authored time.Time }

// ScriptDeployment deploys Commits[Commit] to production; its deploy job finishes at Finished.
type ScriptDeployment struct {
	Commit   int
	Finished time.Time
	Status   string // success, failed or canceled
	Manual   bool
}

// ScriptIncident is an incident issue; Closed zero keeps it open.
type ScriptIncident struct {
	Opened, Closed time.Time
	Labels         []string
}

// Good and Bad are the two demo cadences: one team meets the DORA targets, the other breaches them.
// They are functions so that no caller can change another's profile.
func Good() Profile {
	return Profile{DeploysPerDay: 4, LeadTime: 35 * time.Minute, FailureRate: 0.01, CancelRate: 0.02,
		RollbackRate: 0, IncidentRate: 0.01, SecurityRate: 0.3, Recovery: 8 * time.Minute,
		ScanDuration: 4 * time.Minute, AccessRequestsPerDay: 0.5, AccessFulfilment: 3 * time.Minute,
		VulnsPerDay: 0.2, VulnResolution: 2 * time.Hour}
}

// Bad breaches the DORA targets: rare, slow, failing, often manual releases.
func Bad() Profile {
	return Profile{DeploysPerDay: 0.6, LeadTime: 3 * 24 * time.Hour, FailureRate: 0.15, CancelRate: 0.05,
		RollbackRate: 0.08, IncidentRate: 0.15, SecurityRate: 0.3, Recovery: 6 * time.Hour, ManualRate: 0.6,
		ScanDuration: 18 * time.Minute, AccessRequestsPerDay: 0.3, AccessFulfilment: 4 * time.Hour,
		VulnsPerDay: 0.3, VulnResolution: 5 * 24 * time.Hour}
}

// DemoProjects are the demo organization's GitLab projects: team mobile (breaching) and team logistics
// (meeting the targets, with an IaC project).
func DemoProjects() []Project {
	iac := Good()
	iac.DeploysPerDay, iac.IaCDuration = 1.5, 12*time.Minute
	return []Project{
		{Path: "mobile/ios-app", Profile: Bad(), Policy: Policy{ApprovalsRequired: 1}},
		{Path: "mobile/android-app", Profile: Bad(), Policy: Policy{AllowForcePush: true}},
		{Path: "logistics/shipping", Profile: Good(), Policy: Policy{ApprovalsRequired: 2}},
		{Path: "logistics/warehouse", Profile: Good(), Policy: Policy{ApprovalsRequired: 1}},
		{Path: "logistics/iac", Profile: iac, Policy: Policy{ApprovalsRequired: 1}},
	}
}

type commit struct {
	sha      string
	n        int // position on the (linear) default branch
	authored time.Time
	title    string
}

type job struct {
	id                         int64
	name, stage                string
	status                     string // final status
	manual                     bool
	created, started, finished time.Time
	pipelineID                 int64
	sha                        string
}

type deployment struct {
	id, iid int64
	env     *environment
	sha     string
	status  string // final status: success, failed, canceled
	created time.Time
	job     *job
}

type pipeline struct {
	id                int64
	name              string
	status            string
	sha               string
	created, finished time.Time
}

type issue struct {
	id, iid int64
	typ     string // issue or incident
	title   string
	labels  []string
	created time.Time
	closed  time.Time // zero: stays open
}

type vulnerability struct {
	id       int64
	severity string
	title    string
	created  time.Time
	resolved time.Time
}

type environment struct {
	id         int64
	name, tier string
}

// history is everything generated for one project up to generatedTo. It only grows.
type history struct {
	index       int
	project     Project
	envs        []*environment
	commits     []commit
	bySHA       map[string]int
	deployments []*deployment
	jobs        []*job
	pipelines   []*pipeline
	issues      []*issue
	vulns       []*vulnerability
	generatedTo time.Time // exclusive end of the generated days
	seq         int64
	lastGood    []string // SHAs of successful production deployments, in order
	scripted    bool     // the history is a Script: nothing is generated
}

func newHistory(index int, p Project, start time.Time) *history {
	prod := p.ProductionEnvironment
	if prod == "" {
		prod = "production"
	}
	base := int64(index+1) * 1_000_000
	h := &history{index: index, project: p, bySHA: map[string]int{}, generatedTo: start, seq: base}
	h.envs = []*environment{{id: base + 1, name: prod, tier: "production"}, {id: base + 2, name: "staging", tier: "staging"}}
	h.seq += 10
	if p.Script != nil {
		h.replay(p.Script)
		return h
	}
	h.addCommit(start.Add(-time.Hour), "Initial commit")
	return h
}

func (h *history) replay(sc *Script) {
	for i, c := range sc.Commits {
		h.addCommit(c.Authored, fmt.Sprintf("Change %d", i))
	}
	for _, d := range sc.Deployments {
		sha := h.commits[d.Commit].sha
		pl := &pipeline{id: h.next(), name: "Deploy pipeline", status: d.Status, sha: sha, created: d.Finished.Add(-10 * time.Minute), finished: d.Finished}
		h.pipelines = append(h.pipelines, pl)
		j := &job{id: h.next(), name: "deploy", stage: "deploy", status: d.Status, manual: d.Manual, created: d.Finished.Add(-3 * time.Minute),
			started: d.Finished.Add(-2 * time.Minute), finished: d.Finished, pipelineID: pl.id, sha: sha}
		h.jobs = append(h.jobs, j)
		h.deployments = append(h.deployments, &deployment{id: h.next(), iid: int64(len(h.deployments) + 1), env: h.envs[0],
			sha: sha, status: d.Status, created: j.created, job: j})
	}
	for _, in := range sc.Incidents {
		h.issues = append(h.issues, &issue{id: h.next(), iid: int64(len(h.issues) + 1), typ: "incident", title: "Incident",
			labels: in.Labels, created: in.Opened, closed: in.Closed})
	}
	h.scripted = true
}

func (h *history) next() int64 { h.seq++; return h.seq }

func (h *history) addCommit(t time.Time, title string) commit {
	n := len(h.commits)
	sum := sha1.Sum([]byte(fmt.Sprintf("%s#%d", h.project.Path, n)))
	c := commit{sha: hex.EncodeToString(sum[:]), n: n, authored: t.UTC().Truncate(time.Second), title: title}
	h.commits = append(h.commits, c)
	h.bySHA[c.sha] = n
	return c
}

// count turns a rate into a whole number for one day: the integer part plus one more with the
// fractional part's probability.
func count(r *rand.Rand, rate float64) int {
	n := int(rate)
	if r.Float64() < rate-float64(n) {
		n++
	}
	return n
}

// jitter scales d by a factor in [0.5, 1.5).
func jitter(r *rand.Rand, d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + r.Float64()))
}

func seedOf(seed uint64, path string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(path))
	return seed ^ f.Sum64()
}

// generate extends the history by whole days until it covers until. A day's events depend only on the
// seed, the project and the day (plus what earlier days left behind), never on when they are generated.
func (h *history) generate(seed uint64, until time.Time) {
	if h.scripted {
		return
	}
	for !h.generatedTo.After(until) {
		day := h.generatedTo
		r := rand.New(rand.NewPCG(seedOf(seed, h.project.Path), uint64(day.Unix())))
		h.generateDay(r, day)
		h.generatedTo = day.Add(24 * time.Hour)
	}
}

func (h *history) generateDay(r *rand.Rand, day time.Time) {
	p := h.project.Profile
	prod, staging := h.envs[0], h.envs[1]
	n := count(r, p.DeploysPerDay)
	for i := range n {
		at := day.Add(time.Duration(float64(24*time.Hour) * (float64(i) + 0.2 + 0.6*r.Float64()) / float64(n))).Truncate(time.Second)
		// New commits land on the default branch before the deployment that ships them.
		for c := range 1 + r.IntN(3) {
			h.addCommit(at.Add(-jitter(r, p.LeadTime)-time.Duration(c)*time.Minute), fmt.Sprintf("Change %d", len(h.commits)))
		}
		sha := h.commits[len(h.commits)-1].sha
		status := "success"
		switch x := r.Float64(); {
		case x < p.FailureRate:
			status = "failed"
		case x < p.FailureRate+p.CancelRate:
			status = "canceled"
		}
		if status == "success" && len(h.lastGood) >= 2 && r.Float64() < p.RollbackRate {
			sha = h.lastGood[len(h.lastGood)-2]
		}
		pl := &pipeline{id: h.next(), name: "Deploy pipeline", status: status, sha: sha, created: at.Add(-30 * time.Minute), finished: at}
		h.pipelines = append(h.pipelines, pl)
		// Scan jobs run in the same pipeline before the deployment.
		for _, name := range []string{"sast", "secret_detection"} {
			d := jitter(r, p.ScanDuration).Truncate(time.Second)
			end := at.Add(-5 * time.Minute)
			h.jobs = append(h.jobs, &job{id: h.next(), name: name, stage: "test", status: "success",
				created: pl.created, started: end.Add(-d), finished: end, pipelineID: pl.id, sha: sha})
		}
		dj := &job{id: h.next(), name: "deploy", stage: "deploy", status: status, manual: r.Float64() < p.ManualRate,
			created: at.Add(-3 * time.Minute), started: at.Add(-2 * time.Minute), finished: at, pipelineID: pl.id, sha: sha}
		h.jobs = append(h.jobs, dj)
		dep := &deployment{id: h.next(), iid: int64(len(h.deployments) + 1), env: prod, sha: sha, status: status, created: dj.created, job: dj}
		h.deployments = append(h.deployments, dep)
		if status != "success" {
			continue
		}
		h.lastGood = append(h.lastGood, sha)
		if r.Float64() < p.IncidentRate {
			opened := at.Add(time.Duration(5+r.IntN(60)) * time.Minute)
			labels := []string{"incident", "pillar:applications"}
			if r.Float64() < p.SecurityRate {
				labels = append(labels, "security")
			}
			h.issues = append(h.issues, &issue{id: h.next(), iid: int64(len(h.issues) + 1), typ: "incident",
				title: "Production incident", labels: labels, created: opened, closed: opened.Add(jitter(r, p.Recovery)).Truncate(time.Second)})
		}
	}
	// A staging deployment every day that must never count as production.
	st := day.Add(time.Duration(r.IntN(20)+2) * time.Hour)
	sj := &job{id: h.next(), name: "deploy-staging", stage: "deploy", status: "success", created: st.Add(-time.Minute),
		started: st.Add(-time.Minute), finished: st, sha: h.commits[len(h.commits)-1].sha}
	h.jobs = append(h.jobs, sj)
	h.deployments = append(h.deployments, &deployment{id: h.next(), iid: int64(len(h.deployments) + 1), env: staging,
		sha: sj.sha, status: "success", created: sj.created, job: sj})

	if p.IaCDuration > 0 {
		start := day.Add(time.Duration(8+r.IntN(8)) * time.Hour)
		d := jitter(r, p.IaCDuration).Truncate(time.Second)
		pl := &pipeline{id: h.next(), name: "terraform apply", status: "success", sha: h.commits[len(h.commits)-1].sha, created: start, finished: start.Add(d)}
		h.pipelines = append(h.pipelines, pl)
		h.jobs = append(h.jobs, &job{id: h.next(), name: "terraform-apply", stage: "apply", status: "success",
			created: start, started: start, finished: pl.finished, pipelineID: pl.id, sha: pl.sha})
	}
	for range count(r, p.AccessRequestsPerDay) {
		opened := day.Add(time.Duration(r.IntN(86400)) * time.Second)
		label := "access-request:privileged"
		if r.IntN(2) == 0 {
			label = "access-request:data"
		}
		h.issues = append(h.issues, &issue{id: h.next(), iid: int64(len(h.issues) + 1), typ: "issue",
			title: "Access request", labels: []string{label}, created: opened, closed: opened.Add(jitter(r, p.AccessFulfilment)).Truncate(time.Second)})
	}
	for range count(r, p.VulnsPerDay) {
		found := day.Add(time.Duration(r.IntN(86400)) * time.Second)
		sev := "high"
		if r.IntN(3) == 0 {
			sev = "critical"
		}
		v := &vulnerability{id: h.next(), severity: sev, title: "Vulnerable dependency", created: found}
		// One in ten is never fixed: open criticals show up in the demo.
		if r.IntN(10) > 0 {
			v.resolved = found.Add(jitter(r, p.VulnResolution)).Truncate(time.Second)
		}
		h.vulns = append(h.vulns, v)
	}
}
