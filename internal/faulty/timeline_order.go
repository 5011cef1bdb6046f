package faulty

import (
	"cmp"
	"slices"
)

// Chronological returns the steps of a timeline ordered as they happen, for
// reading left to right: by start, ties by phase order (then ladder level);
// a step with no start yet (the closing message before anything is resolved)
// goes last. The input is not changed.
func Chronological(steps []StepView) []StepView {
	out := slices.Clone(steps)
	slices.SortStableFunc(out, func(a, b StepView) int {
		if a.Start.IsZero() != b.Start.IsZero() {
			if a.Start.IsZero() {
				return 1
			}
			return -1
		}
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.order(), b.order())
	})
	return out
}

// order is a step's place in the phase order: period phases, the ladder
// levels, re-escalations, the partner's response, monitoring, closing.
func (v StepView) order() int {
	switch v.Level {
	case LevelNotification, LevelReminder, LevelFinalReminder:
		return 10 + v.Level.rank()
	case LevelReEscalation:
		return 20
	case LevelClosing:
		return 50
	}
	switch v.Phase {
	case PhaseIngestion:
		return 1
	case PhaseValidation:
		return 2
	case PhaseTracking:
		return 3
	case PhasePartnerResponded:
		return 30
	case PhaseMonitoring:
		return 40
	}
	return 45
}
