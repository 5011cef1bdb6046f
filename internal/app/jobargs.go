package app

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The job kinds: each Args is a River job's payload with its stable Kind
// and InsertOpts. They live here because use cases insert them; the workers
// in internal/jobs call back into the use cases.

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
	// RequestedBy is the user who asked for the run (0: the system); the
	// run's audit event names them.
	RequestedBy int64 `json:"requested_by,omitempty"`
}

// Kind is the stable job kind.
func (EZPassAssociateArgs) Kind() string { return "ezpass.associate" }

// EZPassPostArgs asks for every associated toll and credit to be posted.
type EZPassPostArgs struct {
	Trigger string `json:"trigger,omitempty"`
	// RequestedBy is the user who asked for the run (0: the system).
	RequestedBy int64 `json:"requested_by,omitempty"`
}

// Kind is the stable job kind.
func (EZPassPostArgs) Kind() string { return "ezpass.post" }

// InsertOpts bounds retries (a run is one transaction, so retrying is
// safe) and keeps one pending job per import.
func (EZPassImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// InsertOpts bounds association attempts. There is no uniqueness: River
// keeps a unique job unique while it runs, so an import finishing during a
// run would be skipped; runs are serialised by an advisory lock instead
// and a run with nothing new to do is cheap.
func (EZPassAssociateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5}
}

// InsertOpts bounds posting attempts; posting is idempotent (unique ledger key).
func (EZPassPostArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5}
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

// DefaultSendAttempts bounds the attempts of one email on temporary failures.
const DefaultSendAttempts = 8

// InsertOpts bounds tick attempts; a tick is idempotent.
func (FaultyTickArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// InsertOpts bounds send attempts and keeps one live job per email; the
// outbox row's state, not the job, is what prevents a second delivery.
func (FaultySendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: DefaultSendAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// InsertOpts bounds the attempts of a phase job; the hourly scheduler and the buttons add
// uniqueness when they insert (see PhaseInsertOpts).
func (FaultyPhaseArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3}
}

// FaultyScheduleArgs asks the scheduler to enqueue the period phases whose window has opened,
// and the daily re-validation of periods with open items.
type FaultyScheduleArgs struct{}

// Kind is the stable job kind.
func (FaultyScheduleArgs) Kind() string { return "faulty.schedule" }

// PruneArgs asks for expired sign-in failures and sessions to be deleted.
type PruneArgs struct{}

// Kind is the stable job kind.
func (PruneArgs) Kind() string { return "maintenance.prune" }

// InsertOpts bounds retries: pruning is harmless to repeat.
func (PruneArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// LedgerCheckBalancesArgs asks for driver_balances to be compared with the
// sums of the driver entries (a periodic job, daily).
type LedgerCheckBalancesArgs struct{}

// Kind is the stable job kind.
func (LedgerCheckBalancesArgs) Kind() string { return "ledger.check_balances" }

// InsertOpts bounds attempts and keeps one check queued or running: it
// reads the whole ledger, so a second one beside it would learn nothing new.
func (LedgerCheckBalancesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}
