// Package metricdef declares ztmm's metric families as data (name, help, type, labels), the way
// kube-state-metrics does: the exporter describes and emits them, and METRICS.md is generated from them.
// Building a metric through its Family guarantees the labels match the declaration.
package metricdef

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// Type is a family's Prometheus type.
type Type string

// Family types.
const (
	Gauge     Type = "gauge"
	Counter   Type = "counter"
	Histogram Type = "histogram"
)

// Family is one metric family.
type Family struct {
	Name   string
	Help   string
	Type   Type
	Labels []string
	// Stable marks the public API of SPEC section 2.
	Stable bool
	// Source names who emits it: "exporter", "kpi engine", or a collector kind.
	Source string
	desc   *prometheus.Desc
}

// New declares a family.
func New(name string, t Type, help string, labels ...string) *Family {
	return &Family{Name: name, Help: help, Type: t, Labels: labels,
		desc: prometheus.NewDesc(name, help, labels, nil)}
}

// Desc returns the family's descriptor.
func (f *Family) Desc() *prometheus.Desc { return f.desc }

// Metric returns a gauge or counter sample of the family.
func (f *Family) Metric(v float64, labelValues ...string) prometheus.Metric {
	vt := prometheus.GaugeValue
	if f.Type == Counter {
		vt = prometheus.CounterValue
	}
	return prometheus.MustNewConstMetric(f.desc, vt, v, labelValues...)
}

// HistogramMetric returns a histogram sample of the family. buckets maps upper bounds to cumulative counts.
func (f *Family) HistogramMetric(count uint64, sum float64, buckets map[float64]uint64, labelValues ...string) prometheus.Metric {
	return prometheus.MustNewConstHistogram(f.desc, count, sum, buckets, labelValues...)
}

// Set is an ordered set of families.
type Set []*Family

// Sorted returns the families sorted by name.
func (s Set) Sorted() Set {
	out := append(Set(nil), s...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Describe sends every family's descriptor.
func (s Set) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range s {
		ch <- f.desc
	}
}

// Observations turns values into a cumulative histogram over the given upper bounds.
func Observations(values []float64, bounds []float64) (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(bounds))
	for _, b := range bounds {
		buckets[b] = 0
	}
	for _, v := range values {
		count++
		sum += v
		for _, b := range bounds {
			if v <= b {
				buckets[b]++
			}
		}
	}
	return count, sum, buckets
}

// DORABuckets are histogram bounds in seconds aligned with the DORA performance levels and the
// document's targets: 15 min, 1 h, 1 d, 1 week, 30 days, plus finer steps below an hour.
var DORABuckets = []float64{60, 300, 600, 900, 1800, 3600, 4 * 3600, 86400, 7 * 86400, 30 * 86400}
