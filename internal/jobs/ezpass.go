package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// EZPassDeps are what the E-ZPass workers need beyond Deps.
type EZPassDeps struct {
	// AutoPost posts tolls right after association (EZPASS_AUTO_POST).
	AutoPost bool
	// TZ is EZPASS_TZ, the zone of E-ZPass wall-clock times and messages.
	TZ *time.Location
}

// addEZPassWorkers registers the E-ZPass workers: import (ezpass_import.go),
// associate and post (ezpass_match.go).
func addEZPassWorkers(w *river.Workers, d Deps) {
	addEZPassImportWorkers(w, d)
	addEZPassMatchWorkers(w, d)
}

// ezpassPeriodic lists the E-ZPass periodic jobs.
func ezpassPeriodic() []*river.PeriodicJob {
	return append(ezpassMatchPeriodic(), ezpassImportPeriodic()...)
}
