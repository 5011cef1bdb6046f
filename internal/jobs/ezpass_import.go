package jobs

import "github.com/riverqueue/river"

// addEZPassImportWorkers registers the import worker.
func addEZPassImportWorkers(w *river.Workers, d Deps) {}
