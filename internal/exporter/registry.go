package exporter

import (
	"github.com/prometheus/client_golang/prometheus"
	clientcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

// NewRegistry returns the registry the exporter serves: ztmm_build_info always, the Go runtime and
// process metrics unless disabled (--web.disable-exporter-metrics). The binary and the tests share it,
// so what tests scrape is what users scrape.
func NewRegistry(exporterMetrics bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("ztmm"))
	if exporterMetrics {
		reg.MustRegister(clientcollectors.NewGoCollector(), clientcollectors.NewProcessCollector(clientcollectors.ProcessCollectorOpts{}))
	}
	return reg
}
