package jobs

import "github.com/riverqueue/river"

// addEZPassMatchWorkers registers the association and posting workers.
func addEZPassMatchWorkers(w *river.Workers, d Deps) {}

// ezpassMatchPeriodic is the nightly association run.
func ezpassMatchPeriodic() []*river.PeriodicJob { return nil }
