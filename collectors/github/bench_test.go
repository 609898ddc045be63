package github

import (
	"context"
	"fmt"
	"testing"
	"time"

	fake "github.com/ztmm/ztmm/internal/fakes/github"
)

// BenchmarkSync syncs a synthetic organization (the four team profiles in turn, Deployments API,
// CodeQL scans, Dependabot alerts) and reports the requests the first sync and an unchanged resync make.
// The 500-repository, one-year case is the acceptance size; it takes minutes, so run it alone:
//
//	go test ./collectors/github -run '^$' -bench 'Sync/repos=500' -benchtime 1x
func BenchmarkSync(b *testing.B) {
	for _, size := range []struct{ repos, days int }{{20, 90}, {500, 365}} {
		b.Run(fmt.Sprintf("repos=%d/days=%d", size.repos, size.days), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				now := now0
				opts := fake.Options{Seed: 7, Repos: fake.SyntheticRepos("acme", size.repos), Since: now.AddDate(0, 0, -size.days),
					RateLimit: 1 << 30}
				e := newEnv(b, opts)
				c := e.collector(b)
				c.since = opts.Since
				b.StartTimer()
				start := time.Now()
				if _, err := c.Sync(context.Background()); err != nil {
					b.Fatal(err)
				}
				first := e.fake.Stats()
				firstTime := time.Since(start)
				e.fake.ResetStats()
				start = time.Now()
				if _, err := c.Sync(context.Background()); err != nil {
					b.Fatal(err)
				}
				again := e.fake.Stats()
				b.ReportMetric(float64(first.Requests), "first-requests")
				b.ReportMetric(firstTime.Seconds(), "first-s")
				b.ReportMetric(float64(again.Requests), "resync-requests")
				b.ReportMetric(float64(again.Charged), "resync-charged")
				b.ReportMetric(time.Since(start).Seconds(), "resync-s")
			}
		})
	}
}
