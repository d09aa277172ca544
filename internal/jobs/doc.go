// Package jobs is the durable run queue of `trawl serve`: River
// (riverqueue) jobs that carry whole runs, on the same database as the
// store. It queues runs (now or at a run_at), runs at most MaxRuns of them
// at once through the same lifecycle as `trawl run` (package runner),
// fires the spiders' schedules as River periodic jobs, cancels runs,
// fails stalled ones, and takes up after a restart the runs a killed
// process left. The rules are written down in docs/jobs.md.
//
// Two River job kinds exist: "trawl_run" (args: the run's ID) works one
// run from queued or interrupted to its end; "trawl_schedule" (args: the
// spider's name) is a schedule's fire, which queues a run unless the
// spider already has one queued or running.
package jobs
