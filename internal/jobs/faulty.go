package jobs

import "github.com/riverqueue/river"

// FaultyDeps are what the faulty-bookings workers need beyond Deps.
type FaultyDeps struct{}

// addFaultyWorkers registers the faulty-bookings workers.
func addFaultyWorkers(w *river.Workers, d Deps) {}

// faultyPeriodic lists the faulty-bookings periodic jobs.
func faultyPeriodic() []*river.PeriodicJob { return nil }
