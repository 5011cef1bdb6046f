package jobs

import "github.com/riverqueue/river"

// EZPassDeps are what the E-ZPass workers need beyond Deps.
type EZPassDeps struct{}

// addEZPassWorkers registers the E-ZPass workers.
func addEZPassWorkers(w *river.Workers, d Deps) {}

// ezpassPeriodic lists the E-ZPass periodic jobs.
func ezpassPeriodic() []*river.PeriodicJob { return nil }
