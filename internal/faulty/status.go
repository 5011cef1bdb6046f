package faulty

// ItemState is the state of a batch item (one confirmed booking).
type ItemState string

// The item states (§4.4); a reopened item is open again with its history kept.
const (
	ItemOpen     ItemState = "open"
	ItemResolved ItemState = "resolved"
)

// Resolution is how an item was resolved.
type Resolution string

// The ways an item resolves.
const (
	ResolvedDisappeared    Resolution = "disappeared"      // gone from a later report of the period
	ResolvedNoLongerFaulty Resolution = "no_longer_faulty" // MongoDB no longer calls it faulty
	ResolvedManual         Resolution = "manual"           // staff, with a note
)

// EmailState is the state of an outbox email (§4.6).
type EmailState string

// The outbox states: pending → sending → sent | failed | unknown; unknown and failed wait for
// staff (mark sent, resend).
const (
	EmailPending EmailState = "pending"
	EmailSending EmailState = "sending"
	EmailSent    EmailState = "sent"
	EmailFailed  EmailState = "failed"
	EmailUnknown EmailState = "unknown"
)

// RunStatus is the outcome of a phase run.
type RunStatus string

// The run statuses.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
)
