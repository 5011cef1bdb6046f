package jobs

import (
	"github.com/riverqueue/river"
)

// FaultyDeps are what the faulty-bookings workers need beyond Deps. The
// modules fill them in (faulty_pipeline.go, faulty_ladder.go).
type FaultyDeps struct {
	Pipeline FaultyPipelineDeps
	Ladder   FaultyLadderDeps
}

// addFaultyWorkers registers the faulty-bookings workers.
func addFaultyWorkers(w *river.Workers, d Deps) {
	addFaultyPipelineWorkers(w, d)
	addFaultyLadderWorkers(w, d)
}

// faultyPeriodic lists the faulty-bookings periodic jobs.
func faultyPeriodic() []*river.PeriodicJob {
	return append(faultyPipelinePeriodic(), faultyLadderPeriodic()...)
}
