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

// EZPassImportArgs asks for an uploaded E-ZPass file to be parsed and loaded.
type EZPassImportArgs struct {
	ImportID int64 `json:"import_id"`
}

// Kind is the stable job kind.
func (EZPassImportArgs) Kind() string { return "ezpass.import" }

// EZPassAssociateArgs asks for association of every unposted toll and credit
// (ImportID only labels what triggered it).
type EZPassAssociateArgs struct {
	ImportID int64  `json:"import_id,omitempty"`
	Trigger  string `json:"trigger,omitempty"`
}

// Kind is the stable job kind.
func (EZPassAssociateArgs) Kind() string { return "ezpass.associate" }

// EZPassPostArgs asks for every associated toll and credit to be posted.
type EZPassPostArgs struct {
	Trigger string `json:"trigger,omitempty"`
}

// Kind is the stable job kind.
func (EZPassPostArgs) Kind() string { return "ezpass.post" }

// addEZPassWorkers registers the E-ZPass workers: import (ezpass_import.go),
// associate and post (ezpass_match.go).
func addEZPassWorkers(w *river.Workers, d Deps) {
	addEZPassImportWorkers(w, d)
	addEZPassMatchWorkers(w, d)
}

// ezpassPeriodic lists the E-ZPass periodic jobs.
func ezpassPeriodic() []*river.PeriodicJob { return ezpassMatchPeriodic() }
