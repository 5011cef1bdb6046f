package faulty

import (
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// nov returns a UTC instant in November 2026, the month after period 2026-10.
func nov(day, hour, minute int) time.Time {
	return time.Date(2026, time.November, day, hour, minute, 0, 0, time.UTC)
}

var oct2026 = Period{Year: 2026, Month: time.October}

// batchOpts describes a batch fixture; zero fields get sensible defaults.
type batchOpts struct {
	period   Period
	tracked  time.Time // zero: tracked on the 11th at 01:00
	open     int
	resolved int
	emails   []Email
}

// newBatch returns facts for a batch whose ingestion, validation and tracking are done on time.
func newBatch(o batchOpts) BatchFacts {
	if o.period.IsZero() {
		o.period = oct2026
	}
	if o.tracked.IsZero() {
		o.tracked = nov(11, 1, 0)
	}
	return BatchFacts{
		PeriodFacts: PeriodFacts{Period: o.period, Completed: map[Phase]time.Time{
			PhaseIngestion:  nov(1, 1, 0),
			PhaseValidation: nov(6, 1, 0),
			PhaseTracking:   o.tracked,
		}},
		Emails:   o.emails,
		Open:     o.open,
		Resolved: o.resolved,
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	ok := DefaultPolicy(nil)
	if err := ok.Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Policy)
		want   string
	}{
		{"window past 28", func(p *Policy) { p.Escalation.Last = 30 }, "escalation window"},
		{"window reversed", func(p *Policy) { p.Validation = Window{9, 7} }, "validation window"},
		{"out of order", func(p *Policy) { p.Tracking = Window{3, 4} }, "tracking window starts before"},
		{"reminder outside", func(p *Policy) { p.ReminderDay = 26 }, "reminder day 26"},
		{"final before reminder", func(p *Policy) { p.FinalReminderDay = 21 }, "final reminder day 21"},
		{"send hour", func(p *Policy) { p.SendHour = 24 }, "send hour 24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := DefaultPolicy(nil)
			tt.mutate(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

// simulate runs the scheduler every 15 minutes from the 1st to the end of the month after the
// period, completing period phases when PhaseDue says so and sending what Due says, and returns
// what happened when.
func simulate(t *testing.T, p Policy, period Period, open int) (phases map[Phase]time.Time, emails []Email, skipped int) {
	t.Helper()
	f := BatchFacts{PeriodFacts: PeriodFacts{Period: period, Completed: map[Phase]time.Time{}}, Open: open}
	start := p.DayStart(period, 1)
	end := p.DayStart(period.Next(), 1)
	for now := start; now.Before(end); now = now.Add(15 * time.Minute) {
		if ph, ok := PhaseDue(p, f.PeriodFacts, now); ok {
			f.Completed[ph] = now
		}
		for _, s := range Due(p, f, now) {
			if s.Skip {
				skipped++
				continue
			}
			f.Emails = append(f.Emails, Email{Level: s.Level, At: now})
		}
	}
	return f.Completed, f.Emails, skipped
}

func TestWholeMonth(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	newYork := mustLoc(t, "America/New_York")
	custom := DefaultPolicy(nil)
	custom.Ingestion, custom.Validation, custom.Tracking = Window{2, 3}, Window{4, 4}, Window{5, 7}
	custom.Notification, custom.Escalation = Window{8, 9}, Window{10, 14}
	custom.ReminderDay, custom.FinalReminderDay, custom.SendHour = 11, 14, 15

	tests := []struct {
		name       string
		policy     Policy
		period     Period
		wantPhases map[Phase]time.Time
		wantEmails []Email
	}{
		{
			name:   "default policy in UTC",
			policy: DefaultPolicy(nil),
			period: oct2026,
			wantPhases: map[Phase]time.Time{
				PhaseIngestion: nov(1, 0, 0), PhaseValidation: nov(6, 0, 0), PhaseTracking: nov(11, 0, 0),
			},
			wantEmails: []Email{
				{LevelNotification, nov(16, 9, 0)}, {LevelReminder, nov(21, 9, 0)}, {LevelFinalReminder, nov(25, 9, 0)},
			},
		},
		{
			// October 2026 in Berlin: CEST until the 25th at 03:00, then CET.
			name:   "Berlin across the end of DST",
			policy: DefaultPolicy(berlin),
			period: Period{2026, time.September},
			wantPhases: map[Phase]time.Time{
				PhaseIngestion:  time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC),
				PhaseValidation: time.Date(2026, 10, 5, 22, 0, 0, 0, time.UTC),
				PhaseTracking:   time.Date(2026, 10, 10, 22, 0, 0, 0, time.UTC),
			},
			wantEmails: []Email{
				{LevelNotification, time.Date(2026, 10, 16, 7, 0, 0, 0, time.UTC)},
				{LevelReminder, time.Date(2026, 10, 21, 7, 0, 0, 0, time.UTC)},
				{LevelFinalReminder, time.Date(2026, 10, 25, 8, 0, 0, 0, time.UTC)},
			},
		},
		{
			// March 2026 in New York: EST until the 8th at 02:00, then EDT.
			name:   "New York across the start of DST",
			policy: DefaultPolicy(newYork),
			period: Period{2026, time.February},
			wantPhases: map[Phase]time.Time{
				PhaseIngestion:  time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC),
				PhaseValidation: time.Date(2026, 3, 6, 5, 0, 0, 0, time.UTC),
				PhaseTracking:   time.Date(2026, 3, 11, 4, 0, 0, 0, time.UTC),
			},
			wantEmails: []Email{
				{LevelNotification, time.Date(2026, 3, 16, 13, 0, 0, 0, time.UTC)},
				{LevelReminder, time.Date(2026, 3, 21, 13, 0, 0, 0, time.UTC)},
				{LevelFinalReminder, time.Date(2026, 3, 25, 13, 0, 0, 0, time.UTC)},
			},
		},
		{
			name:   "configurable windows and send hour",
			policy: custom,
			period: oct2026,
			wantPhases: map[Phase]time.Time{
				PhaseIngestion: nov(2, 0, 0), PhaseValidation: nov(4, 0, 0), PhaseTracking: nov(5, 0, 0),
			},
			wantEmails: []Email{
				{LevelNotification, nov(8, 15, 0)}, {LevelReminder, nov(11, 15, 0)}, {LevelFinalReminder, nov(14, 15, 0)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.policy.Validate(); err != nil {
				t.Fatal(err)
			}
			phases, emails, skipped := simulate(t, tt.policy, tt.period, 3)
			for ph, want := range tt.wantPhases {
				if got := phases[ph]; !got.Equal(want) {
					t.Errorf("%s completed at %v, want %v", ph, got.UTC(), want)
				}
			}
			if len(emails) != len(tt.wantEmails) {
				t.Fatalf("sent %d emails %v, want %v", len(emails), emails, tt.wantEmails)
			}
			for i, e := range emails {
				if e.Level != tt.wantEmails[i].Level || !e.At.Equal(tt.wantEmails[i].At) {
					t.Errorf("email %d = %s at %v, want %s at %v", i, e.Level, e.At.UTC(), tt.wantEmails[i].Level, tt.wantEmails[i].At)
				}
			}
			if skipped != 0 {
				t.Errorf("skipped %d steps with the scheduler always up, want 0", skipped)
			}
		})
	}
}

func TestWholeMonthNoOpenItemsSendsNothing(t *testing.T) {
	t.Parallel()
	_, emails, _ := simulate(t, DefaultPolicy(nil), oct2026, 0)
	if len(emails) != 0 {
		t.Fatalf("sent %v to a batch without open items", emails)
	}
}

func TestDue(t *testing.T) {
	t.Parallel()
	sent := func(ls ...Level) []Email {
		at := map[Level]time.Time{LevelNotification: nov(16, 9, 0), LevelReminder: nov(21, 9, 0), LevelFinalReminder: nov(25, 9, 0)}
		var es []Email
		for _, l := range ls {
			es = append(es, Email{Level: l, At: at[l]})
		}
		return es
	}
	tests := []struct {
		name   string
		policy func(*Policy)
		facts  BatchFacts
		now    time.Time
		want   []Step
	}{
		{"before notification", nil, newBatch(batchOpts{open: 2}), nov(16, 8, 59), nil},
		{"notification at send hour", nil, newBatch(batchOpts{open: 2}), nov(16, 9, 0),
			[]Step{{Level: LevelNotification, At: nov(16, 9, 0)}}},
		{"notification already sent", nil, newBatch(batchOpts{open: 2, emails: sent(LevelNotification)}), nov(18, 9, 0), nil},
		{"reminder", nil, newBatch(batchOpts{open: 2, emails: sent(LevelNotification)}), nov(21, 9, 15),
			[]Step{{Level: LevelReminder, At: nov(21, 9, 0)}}},
		{"final reminder CCs escalation", nil, newBatch(batchOpts{open: 2, emails: sent(LevelNotification, LevelReminder)}), nov(25, 10, 0),
			[]Step{{Level: LevelFinalReminder, At: nov(25, 9, 0), CCEscalation: true}}},
		{"nothing after final reminder", nil, newBatch(batchOpts{open: 2, emails: sent(LevelNotification, LevelReminder, LevelFinalReminder)}), nov(28, 9, 0), nil},
		{"downtime over notification and reminder", nil, newBatch(batchOpts{open: 2}), nov(22, 3, 0),
			[]Step{{Level: LevelReminder, At: nov(21, 9, 0)}, {Level: LevelNotification, At: nov(16, 9, 0), Skip: true}}},
		{"downtime over the whole ladder", nil, newBatch(batchOpts{open: 2}), nov(27, 0, 0),
			[]Step{
				{Level: LevelFinalReminder, At: nov(25, 9, 0), CCEscalation: true},
				{Level: LevelReminder, At: nov(21, 9, 0), Skip: true},
				{Level: LevelNotification, At: nov(16, 9, 0), Skip: true},
			}},
		{"downtime after notification", nil, newBatch(batchOpts{open: 2, emails: sent(LevelNotification)}), nov(26, 0, 0),
			[]Step{{Level: LevelFinalReminder, At: nov(25, 9, 0), CCEscalation: true}, {Level: LevelReminder, At: nov(21, 9, 0), Skip: true}}},
		{"not tracked yet", nil, func() BatchFacts {
			f := newBatch(batchOpts{open: 2})
			delete(f.Completed, PhaseTracking)
			return f
		}(), nov(17, 0, 0), nil},
		{"tracking late moves notification", nil, newBatch(batchOpts{open: 2, tracked: nov(17, 14, 30)}), nov(17, 14, 30),
			[]Step{{Level: LevelNotification, At: nov(17, 14, 30)}}},
		{"no open items: no ladder", nil, newBatch(batchOpts{open: 0, resolved: 0}), nov(21, 9, 0), nil},
		{"resolved mid-ladder: closing", nil, newBatch(batchOpts{open: 0, resolved: 3, emails: sent(LevelNotification)}), nov(19, 12, 0),
			[]Step{{Level: LevelClosing, At: nov(16, 9, 0)}}},
		{"closing sent once", nil, newBatch(batchOpts{open: 0, resolved: 3, emails: append(sent(LevelNotification), Email{LevelClosing, nov(19, 12, 0)})}), nov(21, 9, 0), nil},
		{"finance reply after closing: no second closing", nil, newBatch(batchOpts{open: 0, resolved: 3, emails: append(sent(LevelNotification), Email{LevelClosing, nov(19, 12, 0)}, Email{LevelReply, nov(20, 10, 0)})}), nov(21, 9, 0), nil},
		{"closing disabled", func(p *Policy) { p.ClosingMessage = false }, newBatch(batchOpts{open: 0, resolved: 3, emails: sent(LevelNotification)}), nov(19, 12, 0), nil},
		{"resolved before any email: no closing", nil, newBatch(batchOpts{open: 0, resolved: 3}), nov(19, 12, 0), nil},
		{"reopened after closing: ladder resumes", nil, newBatch(batchOpts{open: 1, resolved: 2, emails: append(sent(LevelNotification), Email{LevelClosing, nov(19, 12, 0)})}), nov(22, 8, 0),
			[]Step{{Level: LevelReminder, At: nov(21, 9, 0)}}},
		{"resolved again after reopen: second closing", nil, newBatch(batchOpts{open: 0, resolved: 3, emails: append(sent(LevelNotification), Email{LevelClosing, nov(19, 12, 0)}, Email{LevelReminder, nov(22, 8, 0)})}), nov(23, 8, 0),
			[]Step{{Level: LevelClosing, At: nov(22, 8, 0)}}},
		{"re-escalation does not stop the ladder", nil, newBatch(batchOpts{open: 1, emails: append(sent(LevelNotification), Email{LevelReEscalation, nov(18, 10, 0)})}), nov(21, 9, 0),
			[]Step{{Level: LevelReminder, At: nov(21, 9, 0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := DefaultPolicy(nil)
			if tt.policy != nil {
				tt.policy(&p)
			}
			got := Due(p, tt.facts, tt.now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Due() =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// TestDueDowntimeThenRecovery walks a scheduler outage: one email on recovery, none right after.
func TestDueDowntimeThenRecovery(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy(nil)
	f := newBatch(batchOpts{open: 4})
	now := nov(23, 6, 0) // down from the 15th to the 23rd
	steps := Due(p, f, now)
	if len(steps) != 2 || steps[0].Level != LevelReminder || steps[0].Skip || !steps[1].Skip {
		t.Fatalf("Due() = %+v, want reminder plus skipped notification", steps)
	}
	f.Emails = append(f.Emails, Email{Level: steps[0].Level, At: now})
	for _, at := range []time.Time{now.Add(15 * time.Minute), nov(24, 9, 0), nov(25, 8, 59)} {
		if got := Due(p, f, at); got != nil {
			t.Fatalf("Due(%v) = %+v right after the recovery email, want nothing", at, got)
		}
	}
	got := Due(p, f, nov(25, 9, 0))
	if len(got) != 1 || got[0].Level != LevelFinalReminder || got[0].Skip {
		t.Fatalf("Due(25th) = %+v, want only the final reminder", got)
	}
	if tl := Timeline(p, f, nov(23, 7, 0)); tl[3].Level != LevelNotification || tl[3].State != StateSkipped {
		t.Fatalf("notification step = %+v, want skipped", tl[3])
	}
}

func TestBatchState(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	notified := []Email{{LevelNotification, nov(16, 9, 0)}}
	reminded := append(notified[:1:1], Email{LevelReminder, nov(21, 9, 0)})
	escalated := append(reminded[:2:2], Email{LevelFinalReminder, nov(25, 9, 0)})
	tests := []struct {
		name   string
		policy Policy
		facts  BatchFacts
		now    time.Time
		want   BatchStatus
	}{
		{"collecting", DefaultPolicy(nil), BatchFacts{PeriodFacts: PeriodFacts{Period: oct2026}, Open: 0}, nov(3, 0, 0), BatchCollecting},
		{"validated", DefaultPolicy(nil), BatchFacts{PeriodFacts: PeriodFacts{Period: oct2026, Completed: map[Phase]time.Time{PhaseIngestion: nov(1, 1, 0), PhaseValidation: nov(6, 1, 0)}}, Open: 3}, nov(8, 0, 0), BatchValidated},
		{"tracked", DefaultPolicy(nil), newBatch(batchOpts{open: 3}), nov(12, 0, 0), BatchTracked},
		{"notified", DefaultPolicy(nil), newBatch(batchOpts{open: 3, emails: notified}), nov(17, 0, 0), BatchNotified},
		{"reminded", DefaultPolicy(nil), newBatch(batchOpts{open: 3, emails: reminded}), nov(22, 0, 0), BatchReminded},
		{"escalated", DefaultPolicy(nil), newBatch(batchOpts{open: 3, emails: escalated}), nov(25, 23, 59), BatchEscalated},
		{"re-escalated early", DefaultPolicy(nil), newBatch(batchOpts{open: 3, emails: append(notified[:1:1], Email{LevelReEscalation, nov(18, 0, 0)})}), nov(19, 0, 0), BatchEscalated},
		{"overdue after the 25th", DefaultPolicy(nil), newBatch(batchOpts{open: 3, emails: escalated}), nov(26, 0, 0), BatchOverdue},
		{"overdue without emails", DefaultPolicy(nil), newBatch(batchOpts{open: 1}), nov(30, 0, 0), BatchOverdue},
		{"resolved", DefaultPolicy(nil), newBatch(batchOpts{open: 0, resolved: 3, emails: reminded}), nov(28, 0, 0), BatchResolved},
		{"reopened is not resolved", DefaultPolicy(nil), newBatch(batchOpts{open: 1, resolved: 2, emails: reminded}), nov(22, 0, 0), BatchReminded},
		// 2026-10-25 ends at 23:00 UTC in Berlin (CET, after the DST switch that day).
		{"Berlin overdue boundary before", DefaultPolicy(berlin), newBatch(batchOpts{period: Period{2026, time.September}, open: 1}), time.Date(2026, 10, 25, 22, 59, 59, 0, time.UTC), BatchTracked},
		{"Berlin overdue boundary after", DefaultPolicy(berlin), newBatch(batchOpts{period: Period{2026, time.September}, open: 1}), time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC), BatchOverdue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := BatchState(tt.policy, tt.facts, tt.now); got != tt.want {
				t.Fatalf("BatchState() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPhaseDue(t *testing.T) {
	t.Parallel()
	done := func(phs ...Phase) PeriodFacts {
		m := map[Phase]time.Time{}
		for i, ph := range phs {
			m[ph] = nov(1+5*i, 2, 0)
		}
		return PeriodFacts{Period: oct2026, Completed: m}
	}
	tests := []struct {
		name  string
		facts PeriodFacts
		now   time.Time
		want  Phase
	}{
		{"during the period", done(), time.Date(2026, 10, 31, 23, 59, 0, 0, time.UTC), ""},
		{"ingestion opens", done(), nov(1, 0, 0), PhaseIngestion},
		{"ingestion retried while late", done(), nov(9, 0, 0), PhaseIngestion},
		{"validation waits for its window", done(PhaseIngestion), nov(5, 23, 0), ""},
		{"validation", done(PhaseIngestion), nov(6, 0, 0), PhaseValidation},
		{"tracking", done(PhaseIngestion, PhaseValidation), nov(11, 0, 0), PhaseTracking},
		{"tracking late", done(PhaseIngestion, PhaseValidation), nov(20, 0, 0), PhaseTracking},
		{"all done", done(PhaseIngestion, PhaseValidation, PhaseTracking), nov(20, 0, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := PhaseDue(DefaultPolicy(nil), tt.facts, tt.now)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("PhaseDue() = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy(nil)
	type view struct {
		phase    Phase
		level    Level
		start    time.Time
		deadline time.Time
		state    State
	}
	tests := []struct {
		name  string
		facts BatchFacts
		now   time.Time
		want  []view
	}{
		{
			name: "validation late, tracking waits",
			facts: BatchFacts{PeriodFacts: PeriodFacts{Period: oct2026, Completed: map[Phase]time.Time{
				PhaseIngestion: nov(3, 10, 0),
			}}, Open: 0},
			now: nov(12, 0, 0),
			want: []view{
				{PhaseIngestion, "", nov(1, 0, 0), time.Date(2026, 11, 5, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseValidation, "", nov(6, 0, 0), time.Date(2026, 11, 10, 23, 59, 59, 0, time.UTC), StateLate},
				{PhaseTracking, "", nov(11, 0, 0), time.Date(2026, 11, 15, 23, 59, 59, 0, time.UTC), StateUpcoming},
				{PhaseNotification, LevelNotification, nov(16, 9, 0), time.Date(2026, 11, 20, 23, 59, 59, 0, time.UTC), StateUpcoming},
				{PhaseEscalation, LevelReminder, nov(21, 9, 0), time.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC), StateUpcoming},
				{PhaseEscalation, LevelFinalReminder, nov(25, 9, 0), time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC), StateUpcoming},
				{PhaseMonitoring, "", nov(11, 0, 0), time.Time{}, StateUpcoming},
				{PhaseMonitoring, LevelClosing, time.Time{}, time.Time{}, StateUpcoming},
			},
		},
		{
			name: "late predecessor moves the start",
			facts: BatchFacts{PeriodFacts: PeriodFacts{Period: oct2026, Completed: map[Phase]time.Time{
				PhaseIngestion: nov(7, 10, 0), PhaseValidation: nov(8, 10, 0), PhaseTracking: nov(17, 12, 0),
			}}, Open: 5, Emails: []Email{{LevelNotification, nov(17, 12, 15)}}},
			now: nov(22, 0, 0),
			want: []view{
				{PhaseIngestion, "", nov(1, 0, 0), time.Date(2026, 11, 5, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseValidation, "", nov(7, 10, 0), time.Date(2026, 11, 10, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseTracking, "", nov(11, 0, 0), time.Date(2026, 11, 15, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseNotification, LevelNotification, nov(17, 12, 0), time.Date(2026, 11, 20, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseEscalation, LevelReminder, nov(21, 9, 0), time.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC), StateDue},
				{PhaseEscalation, LevelFinalReminder, nov(25, 9, 0), time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC), StateUpcoming},
				{PhaseMonitoring, "", nov(11, 0, 0), time.Time{}, StateDue},
				{PhaseMonitoring, LevelClosing, time.Time{}, time.Time{}, StateUpcoming},
			},
		},
		{
			name: "resolved mid-ladder with closing sent",
			facts: func() BatchFacts {
				f := newBatch(batchOpts{open: 0, resolved: 4, emails: []Email{{LevelNotification, nov(16, 9, 0)}, {LevelClosing, nov(19, 9, 0)}}})
				f.LastResolved = nov(19, 8, 50)
				return f
			}(),
			now: nov(27, 0, 0),
			want: []view{
				{PhaseIngestion, "", nov(1, 0, 0), time.Date(2026, 11, 5, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseValidation, "", nov(6, 0, 0), time.Date(2026, 11, 10, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseTracking, "", nov(11, 0, 0), time.Date(2026, 11, 15, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseNotification, LevelNotification, nov(16, 9, 0), time.Date(2026, 11, 20, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseEscalation, LevelReminder, nov(21, 9, 0), time.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC), StateSkipped},
				{PhaseEscalation, LevelFinalReminder, nov(25, 9, 0), time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC), StateSkipped},
				{PhaseMonitoring, "", nov(11, 0, 0), time.Time{}, StateDone},
				{PhaseMonitoring, LevelClosing, nov(19, 8, 50), time.Time{}, StateDone},
			},
		},
		{
			name:  "ladder late while the scheduler is down",
			facts: newBatch(batchOpts{open: 2}),
			now:   nov(26, 0, 0),
			want: []view{
				{PhaseIngestion, "", nov(1, 0, 0), time.Date(2026, 11, 5, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseValidation, "", nov(6, 0, 0), time.Date(2026, 11, 10, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseTracking, "", nov(11, 0, 0), time.Date(2026, 11, 15, 23, 59, 59, 0, time.UTC), StateDone},
				{PhaseNotification, LevelNotification, nov(16, 9, 0), time.Date(2026, 11, 20, 23, 59, 59, 0, time.UTC), StateLate},
				{PhaseEscalation, LevelReminder, nov(21, 9, 0), time.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC), StateLate},
				{PhaseEscalation, LevelFinalReminder, nov(25, 9, 0), time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC), StateLate},
				{PhaseMonitoring, "", nov(11, 0, 0), time.Time{}, StateDue},
				{PhaseMonitoring, LevelClosing, time.Time{}, time.Time{}, StateUpcoming},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Timeline(p, tt.facts, tt.now)
			if len(got) != len(tt.want) {
				t.Fatalf("Timeline() has %d steps, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Phase != w.phase || g.Level != w.level || !g.Start.Equal(w.start) || !g.Deadline.Equal(w.deadline) || g.State != w.state {
					t.Errorf("step %d = {%s %s start %v deadline %v %s}, want {%s %s start %v deadline %v %s}",
						i, g.Phase, g.Level, g.Start.UTC(), g.Deadline.UTC(), g.State, w.phase, w.level, w.start, w.deadline, w.state)
				}
			}
		})
	}
}

func TestTimelineReEscalationsAndDSTDeadline(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	p := DefaultPolicy(ny)
	// Period 2026-10: the ingestion window (November 1st–5th) spans the end of DST on the 1st.
	f := BatchFacts{PeriodFacts: PeriodFacts{Period: oct2026}, Emails: []Email{
		{LevelNotification, nov(16, 14, 0)}, {LevelReEscalation, nov(18, 15, 0)}, {LevelReEscalation, nov(19, 15, 0)},
	}, Open: 1}
	tl := Timeline(p, f, nov(2, 12, 0))
	if got, want := tl[0].Start, time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("ingestion start = %v, want %v (midnight EDT)", got.UTC(), want)
	}
	if got, want := tl[0].Deadline, time.Date(2026, 11, 6, 4, 59, 59, 0, time.UTC); !got.Equal(want) {
		t.Errorf("ingestion deadline = %v, want %v (23:59:59 EST)", got.UTC(), want)
	}
	var re int
	for _, v := range tl {
		if v.Level == LevelReEscalation {
			re++
			if v.State != StateDone {
				t.Errorf("re-escalation step state = %s, want done", v.State)
			}
		}
	}
	if re != 2 || f.ReEscalations() != 2 {
		t.Fatalf("timeline shows %d re-escalations, facts count %d; want 2", re, f.ReEscalations())
	}
}

func TestSendTimeInDSTGap(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy(mustLoc(t, "America/New_York"))
	p.SendHour = 2
	// 2026-03-08 02:00 does not exist in New York; the send time is 03:00 EDT.
	got := p.SendTime(Period{2026, time.February}, 8)
	if want := time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("SendTime() = %v, want %v", got.UTC(), want)
	}
}
