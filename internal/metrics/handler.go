package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the metrics gathered from g in the Prometheus text format, for
// GET /metrics. A gathering error, such as two collectors exporting the same series, is a bug: the handler
// answers 500 instead of serving a partial scrape that would hide it. Failures to read the database do not
// count: they only set trawl_metrics_source_up to 0.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}
