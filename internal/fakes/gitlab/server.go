// Package gitlab is a fake GitLab: an http.Handler speaking the REST v4 shapes of
// shared/upstream-samples/gitlab (projects, environments, deployments, compare, issues, jobs, pipelines,
// protected branches, approval rules, DORA metrics, vulnerabilities) and the small GraphQL query for
// CiJob.manualJob. Its projects' histories are generated from a seed and a clock, so the same seed always
// tells the same story and new events keep arriving as the clock moves. Faults (status codes, Retry-After,
// malformed bodies) can be injected per path for tests. The demo organization and the collector tests
// run on it.
package gitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a fake.
type Options struct {
	Projects []Project
	// Start is the history start: the first generated day. It is truncated to the day.
	Start time.Time
	// Now is the fake's clock; events after it are not visible yet. Default time.Now.
	Now  func() time.Time
	Seed uint64
	// Free makes the Premium/Ultimate endpoints (DORA metrics, vulnerabilities, approval rules) answer
	// 403, as on GitLab Free.
	Free bool
	// Token, if set, is required in PRIVATE-TOKEN or Authorization: Bearer.
	Token string
	// RateLimit is the request budget per minute (RateLimit-Limit); default 2000, GitLab.com's. Beyond it
	// the fake answers 429 with Retry-After.
	RateLimit int
	// MaxPerPage caps per_page (GitLab: 100); tests lower it to force pagination.
	MaxPerPage int
}

// Fault is an injected failure for requests whose path (after /api/v4, or /api/graphql) contains Path.
type Fault struct {
	Path       string
	Status     int           // default 500
	RetryAfter time.Duration // sets Retry-After (seconds) when > 0
	Body       string        // raw body; default a GitLab error message
	Times      int           // how many requests fail; 0 means every one
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	opts Options

	mu       sync.Mutex
	projects []*history
	faults   []*Fault
	requests []string // request URIs, for tests
	window   time.Time
	used     int
}

// New returns a fake GitLab.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 2000
	}
	if opts.MaxPerPage == 0 {
		opts.MaxPerPage = 100
	}
	start := opts.Start.UTC().Truncate(24 * time.Hour)
	s := &Server{opts: opts}
	for i, p := range opts.Projects {
		s.projects = append(s.projects, newHistory(i, p, start))
	}
	return s
}

// Inject adds a fault; later faults are checked first.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append([]*Fault{&f}, s.faults...)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Requests returns how many requests so far had a URI containing substr.
func (s *Server) Requests(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.Contains(r, substr) {
			n++
		}
	}
	return n
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.URL.RequestURI())
	now := s.opts.Now().UTC()
	w.Header().Set("Content-Type", "application/json")

	if s.opts.Token != "" {
		tok := r.Header.Get("PRIVATE-TOKEN")
		if tok == "" {
			tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		if tok != s.opts.Token {
			writeError(w, http.StatusUnauthorized, "401 Unauthorized")
			return
		}
	}
	if !s.budget(w, now) {
		return
	}
	path := r.URL.EscapedPath()
	if s.fault(w, path) {
		return
	}
	switch {
	case path == "/api/graphql" && r.Method == http.MethodPost:
		s.graphql(w, r, now)
	case strings.HasPrefix(path, "/api/v4/") && r.Method == http.MethodGet:
		s.rest(w, r, now, strings.Split(strings.TrimPrefix(path, "/api/v4/"), "/"))
	default:
		writeError(w, http.StatusNotFound, "404 Not Found")
	}
}

// budget applies the per-minute rate limit and sets GitLab's RateLimit-* headers.
func (s *Server) budget(w http.ResponseWriter, now time.Time) bool {
	if win := now.Truncate(time.Minute); !win.Equal(s.window) {
		s.window, s.used = win, 0
	}
	reset := s.window.Add(time.Minute)
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if s.used >= s.opts.RateLimit {
		h.Set("RateLimit-Remaining", "0")
		h.Set("Retry-After", strconv.Itoa(max(1, int(reset.Sub(now).Seconds()))))
		writeError(w, http.StatusTooManyRequests, "Retry later")
		return false
	}
	s.used++
	h.Set("RateLimit-Remaining", strconv.Itoa(s.opts.RateLimit-s.used))
	return true
}

func (s *Server) fault(w http.ResponseWriter, path string) bool {
	for i, f := range s.faults {
		if !strings.Contains(path, f.Path) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds())))
		}
		if f.Body != "" {
			// A malformed body usually comes with a success status: the client must not trust it.
			w.WriteHeader(status)
			fmt.Fprint(w, f.Body)
			return true
		}
		writeError(w, status, fmt.Sprintf("%d %s", status, http.StatusText(status)))
		return true
	}
	return false
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *Server) project(id string, now time.Time) *history {
	for _, h := range s.projects {
		if h.project.Path == id || strconv.FormatInt(h.id(), 10) == id {
			h.generate(s.opts.Seed, now)
			return h
		}
	}
	return nil
}

func (h *history) id() int64 { return int64(h.index + 1) }

func (s *Server) rest(w http.ResponseWriter, r *http.Request, now time.Time, seg []string) {
	for i := range seg {
		if u, err := url.PathUnescape(seg[i]); err == nil {
			seg[i] = u
		}
	}
	q := r.URL.Query()
	if len(seg) >= 3 && seg[0] == "groups" && seg[2] == "projects" {
		s.groupProjects(w, r, now, seg[1])
		return
	}
	if len(seg) < 2 || seg[0] != "projects" {
		writeError(w, http.StatusNotFound, "404 Not Found")
		return
	}
	h := s.project(seg[1], now)
	if h == nil {
		writeError(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	rest := strings.Join(seg[2:], "/")
	premium := func() bool {
		if s.opts.Free {
			writeError(w, http.StatusForbidden, "403 Forbidden")
			return false
		}
		return true
	}
	switch {
	case rest == "":
		writeJSON(w, h.projectJSON())
	case rest == "environments":
		var out []any
		for _, e := range h.envs {
			out = append(out, h.environmentJSON(e))
		}
		page(w, r, out, nil, s.opts.MaxPerPage)
	case rest == "deployments":
		s.deployments(w, r, h, now)
	case rest == "repository/compare":
		h.compare(w, q.Get("from"), q.Get("to"))
	case rest == "issues":
		s.issues(w, r, h, now)
	case rest == "jobs":
		s.jobs(w, r, h, now)
	case rest == "pipelines":
		s.pipelines(w, r, h, now)
	case strings.HasPrefix(rest, "pipelines/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(rest, "pipelines/"), 10, 64)
		for _, p := range h.pipelines {
			if p.id == id && !p.created.After(now) {
				writeJSON(w, h.pipelineJSON(p, now, true))
				return
			}
		}
		writeError(w, http.StatusNotFound, "404 Not found")
	case strings.HasPrefix(rest, "protected_branches/"):
		if h.project.Policy.Unprotected || strings.TrimPrefix(rest, "protected_branches/") != "main" {
			writeError(w, http.StatusNotFound, "404 Not found")
			return
		}
		writeJSON(w, h.protectedBranchJSON())
	case rest == "approval_rules":
		if premium() {
			writeJSON(w, h.approvalRulesJSON())
		}
	case rest == "dora/metrics":
		if premium() {
			s.dora(w, r, h, now)
		}
	case rest == "vulnerabilities":
		if premium() {
			var out []any
			for _, v := range h.vulns {
				if !v.created.After(now) {
					out = append(out, h.vulnerabilityJSON(v, now))
				}
			}
			page(w, r, out, nil, s.opts.MaxPerPage)
		}
	default:
		writeError(w, http.StatusNotFound, "404 Not Found")
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	json.NewEncoder(w).Encode(v)
}

// page writes one page of items. With pagination=keyset it pages by a cursor in a Link rel="next"
// header, as GitLab's keyset pagination does, where the endpoint offers it (ids given: the items' ids, in
// the listed order); otherwise by page number with the X-* headers of offset pagination.
func page(w http.ResponseWriter, r *http.Request, items []any, ids []int64, maxPerPage int) {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 20
	}
	per = min(per, maxPerPage)
	if items == nil {
		items = []any{}
	}
	h := w.Header()
	h.Set("X-Per-Page", strconv.Itoa(per))
	if q.Get("pagination") == "keyset" && ids == nil {
		// GitLab offers keyset pagination on a few endpoints only (project jobs among them).
		writeError(w, http.StatusMethodNotAllowed, "405 Method Not Allowed - Keyset pagination is not yet available for this type of request")
		return
	}
	if q.Get("pagination") == "keyset" {
		start := 0
		if c := q.Get("cursor"); c != "" {
			cur, _ := strconv.ParseInt(c, 10, 64)
			desc := q.Get("sort") != "asc"
			for start < len(ids) && ((desc && ids[start] >= cur) || (!desc && ids[start] <= cur)) {
				start++
			}
		}
		end := min(start+per, len(items))
		if end < len(items) {
			next := *r.URL
			nq := next.Query()
			nq.Set("cursor", strconv.FormatInt(ids[end-1], 10))
			next.RawQuery = nq.Encode()
			h.Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
		}
		writeJSON(w, items[start:end])
		return
	}
	p, _ := strconv.Atoi(q.Get("page"))
	p = max(p, 1)
	total := len(items)
	pages := max(1, (total+per-1)/per)
	h.Set("X-Page", strconv.Itoa(p))
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	if p < pages {
		h.Set("X-Next-Page", strconv.Itoa(p+1))
	} else {
		h.Set("X-Next-Page", "")
	}
	start := min((p-1)*per, total)
	writeJSON(w, items[start:min(start+per, total)])
}

func (s *Server) groupProjects(w http.ResponseWriter, r *http.Request, now time.Time, group string) {
	q := r.URL.Query()
	sub := q.Get("include_subgroups") == "true"
	var out []any
	found := false
	for _, h := range s.projects {
		p := h.project.Path
		if !strings.HasPrefix(p, group+"/") {
			continue
		}
		found = true
		if !sub && strings.Contains(strings.TrimPrefix(p, group+"/"), "/") {
			continue
		}
		if q.Get("archived") == "false" && h.project.Archived {
			continue
		}
		h.generate(s.opts.Seed, now)
		out = append(out, h.projectJSON())
	}
	if !found {
		writeError(w, http.StatusNotFound, "404 Group Not Found")
		return
	}
	page(w, r, out, nil, s.opts.MaxPerPage)
}

func timeParam(q url.Values, name string) (time.Time, bool) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

var gidRe = regexp.MustCompile(`(\w+)\s*:\s*job\(\s*id:\s*"gid://gitlab/Ci::Build/(\d+)"\s*\)`)

// graphql answers project(fullPath:) { alias: job(id: "gid://gitlab/Ci::Build/N") { id manualJob } ... },
// the only query the collector sends.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request, now time.Time) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "400 Bad request")
		return
	}
	path, _ := req.Variables["fullPath"].(string)
	h := s.project(path, now)
	if h == nil {
		writeJSON(w, map[string]any{"data": map[string]any{"project": nil}})
		return
	}
	proj := map[string]any{}
	for _, m := range gidRe.FindAllStringSubmatch(req.Query, -1) {
		id, _ := strconv.ParseInt(m[2], 10, 64)
		proj[m[1]] = nil
		for _, j := range h.jobs {
			if j.id == id && !j.created.After(now) {
				proj[m[1]] = map[string]any{"id": "gid://gitlab/Ci::Build/" + m[2], "manualJob": j.manual}
			}
		}
	}
	writeJSON(w, map[string]any{"data": map[string]any{"project": proj}})
}
