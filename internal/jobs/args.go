package jobs

import "recondesk/internal/app"

// The job kinds are declared in internal/app (the use cases insert them);
// these names keep the workers and their callers reading as before.
type (
	EZPassImportArgs    = app.EZPassImportArgs
	EZPassAssociateArgs = app.EZPassAssociateArgs
	EZPassPostArgs      = app.EZPassPostArgs
	FaultyPhaseArgs     = app.FaultyPhaseArgs
	FaultyTickArgs      = app.FaultyTickArgs
	FaultySendArgs      = app.FaultySendArgs
	FaultyScheduleArgs  = app.FaultyScheduleArgs
	PruneArgs           = app.PruneArgs
)

// DefaultSendAttempts bounds the attempts of one email on temporary failures.
const DefaultSendAttempts = app.DefaultSendAttempts
