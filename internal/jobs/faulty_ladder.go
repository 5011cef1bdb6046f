package jobs

import "github.com/riverqueue/river"

// FaultyLadderDeps are what the tick and the sender need.
type FaultyLadderDeps struct{}

// addFaultyLadderWorkers registers the tick and send workers.
func addFaultyLadderWorkers(w *river.Workers, d Deps) {}

// faultyLadderPeriodic lists the ladder's periodic jobs (faulty.tick).
func faultyLadderPeriodic() []*river.PeriodicJob { return nil }
