package jobs

import (
	"time"

	"github.com/riverqueue/river"

	"recondesk/internal/app"
)

// FaultyDeps are what the faulty-bookings workers need beyond Deps; when
// jobs.NewClient builds the App itself they become its app.FaultyDeps.
type FaultyDeps struct {
	Pipeline FaultyPipelineDeps
	Ladder   FaultyLadderDeps
}

// App returns the app.FaultyDeps these describe (the ladder's policy wins
// over the pipeline's when both are set).
func (d FaultyDeps) App() app.FaultyDeps {
	return d.Ladder.appDeps(d.Pipeline.appDeps(app.FaultyDeps{}))
}

// now is the clock the deps carry (the ladder's, else the pipeline's); nil means time.Now.
func (d FaultyDeps) now() func() time.Time {
	if d.Ladder.Now != nil {
		return d.Ladder.Now
	}
	return d.Pipeline.Now
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
