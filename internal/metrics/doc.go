// Package metrics holds trawl's Prometheus collectors, registered on a registry passed in.
//
// The engine reports each finished page with [Metrics.ObservePage] and the job workers each finished job with
// [Metrics.JobDone]. Gauges that describe the database (runs by status, queue depth, frontier size) are read at
// scrape time through the functions of [Config], so that every process serving /metrics reports the same
// numbers whichever worker did the work. A nil *Metrics is valid and records nothing, so the engine runs the
// same with and without metrics.
//
// # Cardinality
//
// Every label takes values from a closed set fixed in code: status classes, error classes, run statuses, job
// kinds and outcomes. No label carries a URL, a host, a spider or a run ID: those grow with the data, and each
// label value is a time series that Prometheus keeps in memory. Per-host and per-run numbers come from the API.
//
// docs/metrics.md lists every metric with example queries.
package metrics
