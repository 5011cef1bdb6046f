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

// FaultyPhaseArgs asks for one period-level phase to run now: ingestion,
// validation, tracking or revalidation.
type FaultyPhaseArgs struct {
	Period  string `json:"period"`
	Phase   string `json:"phase"`
	Trigger string `json:"trigger,omitempty"`
}

// Kind is the stable job kind.
func (FaultyPhaseArgs) Kind() string { return "faulty.phase" }

// FaultyTickArgs asks for every active batch's timeline to be evaluated once.
type FaultyTickArgs struct{}

// Kind is the stable job kind.
func (FaultyTickArgs) Kind() string { return "faulty.tick" }

// FaultySendArgs asks for one outbox email to be sent.
type FaultySendArgs struct {
	EmailID int64 `json:"email_id"`
}

// Kind is the stable job kind.
func (FaultySendArgs) Kind() string { return "faulty.send" }

// addFaultyWorkers registers the faulty-bookings workers.
func addFaultyWorkers(w *river.Workers, d Deps) {
	addFaultyPipelineWorkers(w, d)
	addFaultyLadderWorkers(w, d)
}

// faultyPeriodic lists the faulty-bookings periodic jobs.
func faultyPeriodic() []*river.PeriodicJob {
	return append(faultyPipelinePeriodic(), faultyLadderPeriodic()...)
}
