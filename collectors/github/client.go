package github

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/ztmm/ztmm/collectors"
	"github.com/ztmm/ztmm/internal/config"
)

// The transport stack, outermost first: go-github → etagCache (conditional requests, 304 → cached 200)
// → auth → rateRecorder (X-RateLimit-Remaining) → telemetry (requests by code) → network. The cache sits
// outside the counters so ztmm_upstream_requests_total shows the 304s GitHub really answered.

// etagCache remembers the ETag and body of first pages and single resources and revalidates them with
// If-None-Match. GitHub does not charge the rate limit for a 304. Deep history pages are not cached:
// incremental sync never asks for them again. Entries unused during a whole sync are dropped (sweep).
type etagCache struct {
	next http.RoundTripper

	mu      sync.Mutex
	entries map[string]*cacheEntry
	gen     int
}

type cacheEntry struct {
	etag   string
	body   []byte
	header http.Header
	gen    int
}

func cacheable(req *http.Request) bool {
	if req.Method != http.MethodGet {
		return false
	}
	p := req.URL.Query().Get("page")
	return (p == "" || p == "1") && req.URL.Query().Get("after") == ""
}

func (c *etagCache) RoundTrip(req *http.Request) (*http.Response, error) {
	if !cacheable(req) {
		return c.next.RoundTrip(req)
	}
	key := req.URL.String()
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e != nil {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", e.etag)
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && e != nil:
		_ = resp.Body.Close()
		h := e.header.Clone()
		for k, v := range resp.Header { // fresh rate-limit headers
			h[k] = v
		}
		c.mu.Lock()
		e.gen = c.gen
		c.mu.Unlock()
		return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Proto: resp.Proto, ProtoMajor: resp.ProtoMajor,
			ProtoMinor: resp.ProtoMinor, Header: h, Body: io.NopCloser(bytes.NewReader(e.body)),
			ContentLength: int64(len(e.body)), Request: req}, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		// Only a body that parses is worth revalidating: a truncated 200 must be fetched again.
		if json.Valid(body) {
			c.mu.Lock()
			c.entries[key] = &cacheEntry{etag: resp.Header.Get("ETag"), body: body, header: resp.Header.Clone(), gen: c.gen}
			c.mu.Unlock()
		}
	}
	return resp, nil
}

// sweep drops entries not used since the previous sweep and starts a new generation.
func (c *etagCache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.gen < c.gen {
			delete(c.entries, k)
		}
	}
	c.gen++
}

func (c *etagCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// rateRecorder reports GitHub's remaining budget to the telemetry.
type rateRecorder struct {
	next http.RoundTripper
	name string
	tel  *collectors.Telemetry
}

func (r *rateRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && r.tel != nil {
		if v, perr := strconv.ParseFloat(resp.Header.Get("X-RateLimit-Remaining"), 64); perr == nil {
			r.tel.SetRateLimitRemaining(r.name, v)
		}
	}
	return resp, err
}

// tokenAuth adds the token; the value never leaves this struct (not logged, not in errors).
type tokenAuth struct {
	next  http.RoundTripper
	token func(ctx context.Context) (string, error)
}

func (t *tokenAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.token(req.Context())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	return t.next.RoundTrip(req)
}

// appTokens exchanges a GitHub App's JWT for installation tokens, renewed a few minutes before expiry.
type appTokens struct {
	app     *config.App
	key     *rsa.PrivateKey
	baseURL string
	client  *http.Client
	now     func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

func newAppTokens(app *config.App, baseURL string, rt http.RoundTripper, now func() time.Time) (*appTokens, error) {
	block, _ := pem.Decode([]byte(app.PrivateKey.Value()))
	if block == nil {
		return nil, errors.New("github app: private key is not PEM")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k8, err8 := x509.ParsePKCS8PrivateKey(block.Bytes); err8 == nil {
		var ok bool
		if key, ok = k8.(*rsa.PrivateKey); !ok {
			return nil, errors.New("github app: private key is not RSA")
		}
	} else {
		return nil, errors.New("github app: cannot parse private key (expected PKCS#1 or PKCS#8 RSA)")
	}
	return &appTokens{app: app, key: key, baseURL: baseURL, client: &http.Client{Transport: rt}, now: now}, nil
}

func (a *appTokens) jwt() (string, error) {
	now := a.now()
	enc := base64.RawURLEncoding
	hdr := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	// iat 60 s in the past absorbs clock drift, as GitHub recommends; tokens live at most 10 minutes.
	claims, _ := json.Marshal(map[string]any{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix(), "iss": strconv.FormatInt(a.app.AppID, 10)})
	signing := hdr + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

func (a *appTokens) get(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.now().Before(a.expires.Add(-5*time.Minute)) {
		return a.token, nil
	}
	j, err := a.jwt()
	if err != nil {
		return "", err
	}
	u, err := url.JoinPath(a.baseURL, "app/installations", strconv.FormatInt(a.app.InstallationID, 10), "access_tokens")
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+j)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("github app installation token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("github app installation token: %s", resp.Status)
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", errors.New("github app installation token: malformed response")
	}
	a.token, a.expires = out.Token, out.ExpiresAt
	return a.token, nil
}

// classify turns go-github's rate-limit errors into a RetryAfterError so the scheduler waits for the
// budget instead of hammering GitHub, and gives every other error a bounded, token-free message.
func classify(err error, now time.Time) error {
	if err == nil {
		return nil
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return collectors.RetryAfter(fmt.Errorf("github rate limit exhausted until %s", rl.Rate.Reset.UTC().Format(time.RFC3339)),
			max(rl.Rate.Reset.Sub(now), time.Second))
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) {
		d := time.Minute
		if ab.RetryAfter != nil {
			d = *ab.RetryAfter
		}
		return collectors.RetryAfter(errors.New("github secondary rate limit"), d)
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests {
		d := time.Minute
		if s, perr := strconv.Atoi(er.Response.Header.Get("Retry-After")); perr == nil {
			d = time.Duration(s) * time.Second
		}
		return collectors.RetryAfter(errors.New("github: too many requests"), d)
	}
	return err
}

// status is the HTTP status of a go-github error, 0 if none.
func status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}
