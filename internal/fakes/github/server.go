// Package github is a fake GitHub REST API for tests, benchmarks and the demo organization. It serves a
// deterministic organization generated from a seed (deployments and their statuses, commits and compares,
// workflow runs and jobs, incident and access-request issues, Dependabot alerts, branch protection and
// rules), rendered on the payload shapes of GitHub's own OpenAPI examples (samples/, see PROVENANCE.md).
// History is a function of (seed, clock): as the injected clock moves, new events appear and nothing
// already served changes except what GitHub itself changes (statuses, closed issues, fixed alerts).
// It speaks ETags and 304s, X-RateLimit-* headers, Link pagination, and injects faults on demand.
package github

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Repo is one repository of the fake organization.
type Repo struct {
	FullName string // owner/repo
	Profile  Profile
}

// Options configure the fake.
type Options struct {
	Seed  int64
	Repos []Repo
	// CentralRepo is the incident and access-request repository (owner/repo); "" for none.
	CentralRepo string
	Since       time.Time        // history start; events are generated from its day on
	Now         func() time.Time // default time.Now
	RateLimit   int              // requests per hour, default 5000
	Token       string           // if set, requests must carry it (Bearer or token scheme)
	// SecurityForbidden makes the security endpoints (Dependabot, code scanning) answer 403, as for a
	// token without the security_events / Dependabot alerts permission.
	SecurityForbidden bool
}

// DemoRepos is the demo organization: org acme, five teams, twelve services and the central
// security-ops repository.
func DemoRepos() []Repo {
	with := func(p Profile, team string) Profile { p.Team = team; return p }
	platform := with(ProfileMedium, "platform")
	infra := platform
	infra.IaCRunsPerDay, infra.IaCDuration = 2, 22*time.Minute
	return []Repo{
		{"acme/checkout", with(ProfileHigh, "payments")},
		{"acme/payments-api", with(ProfileHigh, "payments")},
		{"acme/ledger", with(ProfileMedium, "payments")},
		{"acme/auth-service", with(ProfileMedium, "identity")},
		{"acme/user-directory", with(ProfileMedium, "identity")},
		{"acme/infra-live", infra},
		{"acme/platform-gateway", platform},
		{"acme/data-pipeline", with(ProfileSlow, "data")},
		{"acme/reporting", with(ProfileSlow, "data")},
		{"acme/web-shop", with(ProfileElite, "storefront")},
		{"acme/search", with(ProfileElite, "storefront")},
		{"acme/recommendations", with(ProfileHigh, "storefront")},
	}
}

// DemoOptions are the demo organization's options with history from since.
func DemoOptions(seed int64, since time.Time, now func() time.Time) Options {
	return Options{Seed: seed, Repos: DemoRepos(), CentralRepo: "acme/security-ops", Since: since, Now: now}
}

// SyntheticRepos returns n repositories of org cycling through the four profiles, for load tests.
func SyntheticRepos(org string, n int) []Repo {
	ps := []Profile{ProfileElite, ProfileHigh, ProfileMedium, ProfileSlow}
	out := make([]Repo, n)
	for i := range out {
		p := ps[i%len(ps)]
		p.Team = fmt.Sprintf("team-%d", i%10)
		out[i] = Repo{FullName: fmt.Sprintf("%s/svc-%04d", org, i), Profile: p}
	}
	return out
}

// FaultKind is a failure the fake can inject.
type FaultKind int

// Fault kinds.
const (
	ServerError        FaultKind = iota + 1 // 502 Bad Gateway
	MalformedJSON                           // 200 with a truncated body
	RateLimited                             // primary limit exhausted: 403, X-RateLimit-Remaining 0, reset in the future
	SecondaryRateLimit                      // 403 with Retry-After
	NotFound                                // 404
	Forbidden                               // 403 "Resource not accessible by integration"
)

// Fault applies Kind to requests whose path contains Path ("" = every request), Times times (0 = until cleared).
type Fault struct {
	Path       string
	Kind       FaultKind
	Times      int
	RetryAfter time.Duration // SecondaryRateLimit; default 60 s
}

// Stats counts what the fake served.
type Stats struct {
	Requests    int // every request
	NotModified int // 304s, which cost no rate limit
	Charged     int // requests charged against the rate limit
	Errors      int // 4xx/5xx answers
}

// Server is the fake GitHub. It is an http.Handler; serve it with httptest or a loopback listener.
type Server struct {
	opts  Options
	start time.Time // the history start's day, UTC
	tmpl  map[string]any

	mu        sync.Mutex
	repos     []*repo
	byName    map[string]*repo
	deleted   map[string]bool
	faults    []*Fault
	stats     Stats
	remaining int
	window    time.Time // start of the current rate-limit hour
	mux       *http.ServeMux
}

// New returns a fake GitHub serving opts' organization.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 5000
	}
	if opts.Since.IsZero() {
		opts.Since = opts.Now().AddDate(0, 0, -90)
	}
	s := &Server{opts: opts, start: opts.Since.UTC().Truncate(24 * time.Hour), tmpl: loadSamples(),
		byName: map[string]*repo{}, deleted: map[string]bool{}}
	add := func(full string, p Profile, central bool) {
		owner, name, _ := strings.Cut(full, "/")
		r := &repo{index: len(s.repos), owner: owner, name: name, profile: p, central: central, bySHA: map[string]commit{}}
		s.repos = append(s.repos, r)
		s.byName[full] = r
	}
	for _, r := range opts.Repos {
		add(r.FullName, r.Profile, false)
	}
	if opts.CentralRepo != "" {
		add(opts.CentralRepo, Profile{Protection: "protection"}, true)
	}
	s.routes()
	return s
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault and refills the rate limit.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.remaining = s.opts.RateLimit
}

// DeleteRepo makes a repository disappear: 404 on its endpoints, gone from the organization's list.
func (s *Server) DeleteRepo(full string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted[full] = true
}

// Stats returns the request counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the request counts.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
}

// extend generates every repository's history up to now's day. Called with s.mu held.
func (s *Server) extend(now time.Time) {
	days := int(now.Sub(s.start)/(24*time.Hour)) + 1
	for _, r := range s.repos {
		for r.days < days {
			s.generateDay(r, r.days)
			r.days++
		}
	}
}

// ServeHTTP serves the REST API under / and under /api/v3/ (GitHub Enterprise Server's prefix).
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.stats.Requests++
	if p, ok := strings.CutPrefix(req.URL.Path, "/api/v3"); ok {
		req.URL.Path = p
	}
	s.rateHeaders(w, now)
	if s.opts.Token != "" {
		auth := req.Header.Get("Authorization")
		if auth != "Bearer "+s.opts.Token && auth != "token "+s.opts.Token {
			s.fail(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
	}
	if s.remaining <= 0 {
		w.Header().Set("X-RateLimit-Remaining", "0")
		s.fail(w, http.StatusForbidden, "API rate limit exceeded for installation.")
		return
	}
	if s.fault(w, req, now) {
		return
	}
	s.extend(now)
	s.mux.ServeHTTP(&replyWriter{ResponseWriter: w, s: s, req: req, now: now}, req)
}

// fault applies the first matching fault. Called with s.mu held.
func (s *Server) fault(w http.ResponseWriter, req *http.Request, now time.Time) bool {
	for i, f := range s.faults {
		if f.Path != "" && !strings.Contains(req.URL.Path, f.Path) {
			continue
		}
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		switch f.Kind {
		case ServerError:
			s.fail(w, http.StatusBadGateway, "Server Error")
		case MalformedJSON:
			s.stats.Charged++
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`[{"id": 1, "sha": "a84d88e`))
		case RateLimited:
			s.remaining = 0
			w.Header().Set("X-RateLimit-Remaining", "0")
			s.fail(w, http.StatusForbidden, "API rate limit exceeded for installation.")
		case SecondaryRateLimit:
			ra := f.RetryAfter
			if ra == 0 {
				ra = time.Minute
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(ra.Seconds())))
			s.failDoc(w, http.StatusForbidden, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"https://docs.github.com/free-pro-team@latest/rest/overview/resources-in-the-rest-api#secondary-rate-limits")
		case NotFound:
			s.fail(w, http.StatusNotFound, "Not Found")
		case Forbidden:
			s.fail(w, http.StatusForbidden, "Resource not accessible by integration")
		}
		return true
	}
	return false
}

func (s *Server) rateHeaders(w http.ResponseWriter, now time.Time) {
	if s.window.IsZero() || now.Sub(s.window) >= time.Hour || now.Before(s.window) {
		s.window = now.Truncate(time.Hour)
		s.remaining = s.opts.RateLimit
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.remaining, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.opts.RateLimit-max(s.remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.window.Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func (s *Server) fail(w http.ResponseWriter, code int, msg string) {
	s.failDoc(w, code, msg, "https://docs.github.com/rest")
}

func (s *Server) failDoc(w http.ResponseWriter, code int, msg, doc string) {
	s.stats.Errors++
	if code != http.StatusUnauthorized {
		s.stats.Charged++
		s.remaining--
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": doc})
	_, _ = w.Write(b)
}

// replyWriter carries the request context to handlers so reply can do ETags and rate accounting.
type replyWriter struct {
	http.ResponseWriter
	s   *Server
	req *http.Request
	now time.Time
}

// reply writes v as JSON with an ETag, or a free 304 when the client already has this representation.
func reply(w http.ResponseWriter, v any) {
	rw := w.(*replyWriter)
	s := rw.s
	body, err := json.Marshal(v)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
	w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	if inm := rw.req.Header.Get("If-None-Match"); inm != "" && inm == etag {
		s.stats.NotModified++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.stats.Charged++
	s.remaining--
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(s.remaining, 0)))
	w.Header().Set("X-RateLimit-Used", strconv.Itoa(s.opts.RateLimit-max(s.remaining, 0)))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func failW(w http.ResponseWriter, code int, msg string) { w.(*replyWriter).s.fail(w, code, msg) }

// page slices items by the page and per_page parameters and sets GitHub's Link header.
func page[T any](w http.ResponseWriter, items []T, defPer, maxPer int) []T {
	rw := w.(*replyWriter)
	q := rw.req.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = defPer
	}
	per = min(per, maxPer)
	p, _ := strconv.Atoi(q.Get("page"))
	p = max(p, 1)
	last := max((len(items)+per-1)/per, 1)
	link := func(n int, rel string) string {
		u := *rw.req.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(n))
		qq.Set("per_page", strconv.Itoa(per))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf(`<http://%s%s>; rel="%s"`, rw.req.Host, u.RequestURI(), rel)
	}
	var links []string
	if p < last {
		links = append(links, link(p+1, "next"), link(last, "last"))
	}
	if p > 1 {
		links = append(links, link(1, "first"), link(p-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	from := min((p-1)*per, len(items))
	return items[from:min(from+per, len(items))]
}
