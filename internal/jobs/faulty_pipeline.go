package jobs

import "github.com/riverqueue/river"

// FaultyPipelineDeps are what ingestion, validation and tracking need.
type FaultyPipelineDeps struct{}

// addFaultyPipelineWorkers registers the phase worker.
func addFaultyPipelineWorkers(w *river.Workers, d Deps) {}

// faultyPipelinePeriodic lists the pipeline's periodic jobs.
func faultyPipelinePeriodic() []*river.PeriodicJob { return nil }
