package gitlab

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ztmm/ztmm/internal/config"
	fake "github.com/ztmm/ztmm/internal/fakes/gitlab"
)

// BenchmarkFirstSync measures a first sync of the demo's GitLab projects over 90 days of history (the
// demo's load): every request over loopback HTTP, compares and GraphQL included.
func BenchmarkFirstSync(b *testing.B) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	since := now.Add(-90 * 24 * time.Hour)
	f := fake.New(fake.Options{Projects: fake.DemoProjects(), Start: since, Now: func() time.Time { return now }, RateLimit: 1 << 30})
	srv := httptest.NewServer(f)
	defer srv.Close()
	for b.Loop() {
		c, err := New(config.GitLab{BaseURL: srv.URL + "/", Groups: []string{"mobile", "logistics"}}, since, nil, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.now = func() time.Time { return now }
		if _, err := c.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
