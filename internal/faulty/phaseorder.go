package faulty

// PhaseRevalidation is the daily re-check of a tracked period's open items
// and unknown-partner rows (monitoring); it can run any number of times.
const PhaseRevalidation Phase = "revalidation"

// RunnablePhases are the period-level phases a job (or "Run now") runs, in order.
var RunnablePhases = []Phase{PhaseIngestion, PhaseValidation, PhaseTracking, PhaseRevalidation}

// Runnable reports whether ph is a phase a job can run.
func (ph Phase) Runnable() bool {
	for _, r := range RunnablePhases {
		if r == ph {
			return true
		}
	}
	return false
}

// Requires is the phase that must have completed before ph can run: the one
// phase-order rule the jobs, the pages and the API apply.
func (ph Phase) Requires() (Phase, bool) {
	switch ph {
	case PhaseValidation:
		return PhaseIngestion, true
	case PhaseTracking, PhaseRevalidation:
		return PhaseValidation, true
	}
	return "", false
}

// Next is the phase that follows ph once it completes (ingestion → validation →
// tracking); revalidation and tracking have none.
func (ph Phase) Next() (Phase, bool) {
	switch ph {
	case PhaseIngestion:
		return PhaseValidation, true
	case PhaseValidation:
		return PhaseTracking, true
	}
	return "", false
}

// Ready reports whether ph may run given the period's facts (its predecessor
// completed); missing is the phase to run first when it may not.
func (ph Phase) Ready(f PeriodFacts) (missing Phase, ok bool) {
	need, has := ph.Requires()
	if !has {
		return "", true
	}
	if _, done := f.completed(need); !done {
		return need, false
	}
	return "", true
}
