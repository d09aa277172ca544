// Package runner is the lifecycle of a run around the crawl engine: it
// chooses the run (resume, create, or retry the failed pages of the last
// one), runs the engine on it, and records how the run ended from why the
// crawl stopped. `trawl run`, the service's workers and `trawl worker` all
// go through it, so that a run ends the same way whoever ran it.
//
// # Life of a run
//
//	r, err := runner.Start(ctx, st, sp, runner.Options{})
//	defer r.Close()
//	res, runErr := r.Crawl(ctx, engine, onProgress)
//	out, err := r.Finish(ctx, res, runErr)
//
// [Start] takes the optional lock, then resumes the newest unfinished run
// of the spider with the same content hash or creates one
// ([Options.Restart] always creates one; [Options.RetryFailed] puts the
// failed pages of the spider's last run back in its frontier instead).
// [Run.Crawl] runs the engine; [Run.Finish] (or [Finish], for a caller
// that holds only the run's ID) maps why the crawl stopped, and the cause
// of a canceled context, to the run's final status ([End]):
//
//   - the crawl completed and some page got an HTTP response: succeeded;
//   - it completed without one response: failed with [NoPageMessage];
//   - context.Cause is [trawl.ErrRunCanceled] (a user canceled it): canceled;
//   - context.Cause is [trawl.ErrShutdown], or a signal canceled the
//     context: left running, to be resumed;
//   - [store.ErrDiskFull]: left running, to be resumed once there is space;
//   - any other error: failed with the error's text.
//
// Printing, output files and exit codes are the caller's: runner returns
// values ([Outcome]) and writes nothing but the run's row.
//
// # Locking
//
// Two crawls storing one dataset at once would take each other's items.
// Who prevents it depends on the process: `trawl run` takes a flock next
// to the SQLite file (a process-local, CLI concern), while the service
// hands each run to one worker through its job queue and needs no lock.
// So the lock is a hook, [Options.LockFunc], that Start calls before it
// chooses the run and [Run.Close] releases; nil means the caller
// guarantees exclusion some other way.
//
// # Sharing
//
// On PostgreSQL a run is crawled by every trawl worker at once. The process
// that took the run's job up (its owner) goes through Start or StartID with
// [Options.Shared], holds the dataset lock, and watches for stalls; every
// other process [Join]s the run. All of them lease the run's hosts in their
// own names, so that per-host politeness holds across them. Each watcher
// reads the run's row: a cancel stops every process, pages committed by
// any of them count as progress, and a run another process ended stops
// the others. The first process to see the frontier exhausted records the
// end; the store keeps the first final status (store.Store.FinishRun), so
// the run ends exactly once. A joined process that stops for its own
// reasons (a shutdown, a lost database) leaves the run to the others.
package runner
