package faulty_test

import (
	"testing"
	"time"

	"recondesk/internal/faulty"
)

func TestDuePausedAndDisputed(t *testing.T) {
	t.Parallel()
	p := faulty.DefaultPolicy(time.UTC)
	period, _ := faulty.ParsePeriod("2026-01")
	base := faulty.BatchFacts{
		PeriodFacts: faulty.PeriodFacts{Period: period, Completed: map[faulty.Phase]time.Time{
			faulty.PhaseIngestion: time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC), faulty.PhaseValidation: time.Date(2026, 2, 6, 0, 0, 0, 0, time.UTC),
			faulty.PhaseTracking: time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC)}},
		Emails: []faulty.Email{{Level: faulty.LevelNotification, At: time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC)}},
		Open:   2,
	}
	onRemind := time.Date(2026, 2, 21, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name  string
		edit  func(*faulty.BatchFacts)
		now   time.Time
		level faulty.Level // "" means nothing due
	}{
		{"no reply: reminder due", func(*faulty.BatchFacts) {}, onRemind, faulty.LevelReminder},
		{"paused by a reply", func(f *faulty.BatchFacts) { f.PausedUntil = time.Date(2026, 2, 24, 10, 0, 0, 0, time.UTC) }, onRemind, ""},
		{"pause over", func(f *faulty.BatchFacts) { f.PausedUntil = time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC) }, onRemind, faulty.LevelReminder},
		{"every open item disputed", func(f *faulty.BatchFacts) { f.Disputed = 2 }, onRemind, ""},
		{"one of two disputed", func(f *faulty.BatchFacts) { f.Disputed = 1 }, onRemind, faulty.LevelReminder},
		{"pause ends after the final day: only the final reminder", func(f *faulty.BatchFacts) {
			f.PausedUntil = time.Date(2026, 2, 25, 10, 0, 0, 0, time.UTC)
		}, time.Date(2026, 2, 25, 11, 0, 0, 0, time.UTC), faulty.LevelFinalReminder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base
			tt.edit(&f)
			due := faulty.Due(p, f, tt.now)
			var got faulty.Level
			if len(due) > 0 {
				got = due[0].Level
			}
			if got != tt.level {
				t.Errorf("Due = %+v; want %q first", due, tt.level)
			}
		})
	}
}

func TestTimelineShowsPartnerResponse(t *testing.T) {
	t.Parallel()
	p := faulty.DefaultPolicy(time.UTC)
	period, _ := faulty.ParsePeriod("2026-01")
	f := faulty.BatchFacts{PeriodFacts: faulty.PeriodFacts{Period: period, Completed: map[faulty.Phase]time.Time{
		faulty.PhaseTracking: time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC)}}, Open: 1,
		RespondedAt: time.Date(2026, 2, 17, 10, 0, 0, 0, time.UTC), PausedUntil: time.Date(2026, 2, 24, 10, 0, 0, 0, time.UTC)}
	var responded *faulty.StepView
	states := map[faulty.Level]faulty.State{}
	for _, v := range faulty.Timeline(p, f, time.Date(2026, 2, 22, 0, 0, 0, 0, time.UTC)) {
		if v.Phase == faulty.PhasePartnerResponded {
			responded = &v
		}
		if v.Level != "" {
			states[v.Level] = v.State
		}
	}
	if responded == nil || !responded.Done.Equal(f.RespondedAt) || !responded.Deadline.Equal(f.PausedUntil) || responded.State != faulty.StateDone {
		t.Errorf("partner-responded step = %+v", responded)
	}
	if states[faulty.LevelNotification] != faulty.StatePaused || states[faulty.LevelReminder] != faulty.StatePaused {
		t.Errorf("ladder states during the pause = %v; want paused", states)
	}
}
