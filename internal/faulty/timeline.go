package faulty

import (
	"errors"
	"fmt"
	"time"
)

// Phase is one stage of a period's life (§4.5).
type Phase string

// The phases, in order.
const (
	PhaseIngestion    Phase = "ingestion"
	PhaseValidation   Phase = "validation"
	PhaseTracking     Phase = "tracking"
	PhaseNotification Phase = "notification"
	PhaseEscalation   Phase = "escalation"
	PhaseMonitoring   Phase = "monitoring"
	// PhasePartnerResponded marks a partner's reply on a batch's timeline; its
	// Deadline is the end of the pause it gives the ladder.
	PhasePartnerResponded Phase = "partner_responded"
)

// PeriodPhases are the phases that run once per period rather than per batch.
var PeriodPhases = []Phase{PhaseIngestion, PhaseValidation, PhaseTracking}

// Level is the kind of one email in a batch's thread.
type Level string

// The email levels. The ladder is Notification < Reminder < FinalReminder; ReEscalation is sent
// by staff and Closing when the last item resolves.
const (
	LevelNotification  Level = "notification"
	LevelReminder      Level = "reminder"
	LevelFinalReminder Level = "final_reminder"
	LevelReEscalation  Level = "re_escalation"
	LevelClosing       Level = "closing"
	// LevelReply is a message finance writes to the partner (not a ladder step).
	LevelReply Level = "reply"
)

// Ladder lists the automatic escalation levels, lowest first.
var Ladder = []Level{LevelNotification, LevelReminder, LevelFinalReminder}

// rank orders the ladder levels; other levels rank 0.
func (l Level) rank() int {
	switch l {
	case LevelNotification:
		return 1
	case LevelReminder:
		return 2
	case LevelFinalReminder:
		return 3
	}
	return 0
}

// Window is an inclusive range of days of the month that follows the period.
type Window struct {
	First, Last int
}

// Policy sets when each phase and email happens; days count in the month after the period.
type Policy struct {
	// Location is the EMSP time zone days and the send hour are counted in; nil means UTC.
	Location *time.Location
	// Ingestion, Validation, Tracking, Notification and Escalation are the phase windows.
	Ingestion, Validation, Tracking, Notification, Escalation Window
	// ReminderDay is the day the reminder is sent (within the escalation window).
	ReminderDay int
	// FinalReminderDay is the day the final reminder, escalation contacts in CC, is sent.
	FinalReminderDay int
	// SendHour is the local wall-clock hour emails are sent at (the notification is sent on
	// the notification window's first day).
	SendHour int
	// ClosingMessage sends one closing email when the last item of a notified batch resolves.
	ClosingMessage bool
}

// DefaultPolicy returns the §4.5 default policy in loc (nil means UTC).
func DefaultPolicy(loc *time.Location) Policy {
	return Policy{
		Location:         orUTC(loc),
		Ingestion:        Window{1, 5},
		Validation:       Window{6, 10},
		Tracking:         Window{11, 15},
		Notification:     Window{16, 20},
		Escalation:       Window{21, 25},
		ReminderDay:      21,
		FinalReminderDay: 25,
		SendHour:         9,
		ClosingMessage:   true,
	}
}

// Validate reports a policy whose days or hour are out of range or out of order.
func (p Policy) Validate() error {
	var errs []error
	ws := []struct {
		ph Phase
		w  Window
	}{{PhaseIngestion, p.Ingestion}, {PhaseValidation, p.Validation}, {PhaseTracking, p.Tracking},
		{PhaseNotification, p.Notification}, {PhaseEscalation, p.Escalation}}
	for i, w := range ws {
		if w.w.First < 1 || w.w.Last > 28 || w.w.First > w.w.Last {
			errs = append(errs, fmt.Errorf("%s window %d–%d: days must satisfy 1 ≤ first ≤ last ≤ 28", w.ph, w.w.First, w.w.Last))
		}
		if i > 0 && w.w.First < ws[i-1].w.First {
			errs = append(errs, fmt.Errorf("%s window starts before the %s window", w.ph, ws[i-1].ph))
		}
	}
	if p.ReminderDay < p.Escalation.First || p.ReminderDay > p.Escalation.Last {
		errs = append(errs, fmt.Errorf("reminder day %d is outside the escalation window", p.ReminderDay))
	}
	if p.FinalReminderDay <= p.ReminderDay || p.FinalReminderDay > p.Escalation.Last {
		errs = append(errs, fmt.Errorf("final reminder day %d must follow the reminder day and lie in the escalation window", p.FinalReminderDay))
	}
	if p.ReminderDay <= p.Notification.First {
		errs = append(errs, fmt.Errorf("reminder day %d must follow the notification day %d", p.ReminderDay, p.Notification.First))
	}
	if p.SendHour < 0 || p.SendHour > 23 {
		errs = append(errs, fmt.Errorf("send hour %d is outside 0–23", p.SendHour))
	}
	if len(errs) > 0 {
		return fmt.Errorf("faulty: invalid policy: %w", errors.Join(errs...))
	}
	return nil
}

// Window returns the window of a phase; monitoring has none.
func (p Policy) Window(ph Phase) (Window, bool) {
	switch ph {
	case PhaseIngestion:
		return p.Ingestion, true
	case PhaseValidation:
		return p.Validation, true
	case PhaseTracking:
		return p.Tracking, true
	case PhaseNotification:
		return p.Notification, true
	case PhaseEscalation:
		return p.Escalation, true
	}
	return Window{}, false
}

// DayStart returns local midnight of the given day of the month after period.
func (p Policy) DayStart(period Period, day int) time.Time {
	n := period.Next()
	return time.Date(n.Year, n.Month, day, 0, 0, 0, 0, orUTC(p.Location))
}

// DayEnd returns the last second (23:59:59 local) of the given day of the month after period.
func (p Policy) DayEnd(period Period, day int) time.Time {
	n := period.Next()
	return time.Date(n.Year, n.Month, day+1, 0, 0, 0, 0, orUTC(p.Location)).Add(-time.Second)
}

// SendTime returns SendHour local wall time on the given day of the month after period. When
// that hour does not exist (the spring-forward gap), it is the first instant after the gap.
func (p Policy) SendTime(period Period, day int) time.Time {
	n := period.Next()
	loc := orUTC(p.Location)
	t := time.Date(n.Year, n.Month, day, p.SendHour, 0, 0, 0, loc)
	if t.Hour() != p.SendHour {
		t = time.Date(n.Year, n.Month, day, p.SendHour+1, 0, 0, 0, loc)
	}
	return t
}

// ladderDay returns the day a ladder level is scheduled on.
func (p Policy) ladderDay(l Level) int {
	switch l {
	case LevelNotification:
		return p.Notification.First
	case LevelReminder:
		return p.ReminderDay
	default:
		return p.FinalReminderDay
	}
}

// ladderDeadline returns the end of the last day a ladder level may be sent on time.
func (p Policy) ladderDeadline(period Period, l Level) time.Time {
	switch l {
	case LevelNotification:
		return p.DayEnd(period, p.Notification.Last)
	case LevelReminder:
		return p.DayEnd(period, max(p.ReminderDay, p.FinalReminderDay-1))
	default:
		return p.DayEnd(period, p.Escalation.Last)
	}
}

// Email is one message already sent in a batch's thread.
type Email struct {
	Level Level
	At    time.Time
}

// PeriodFacts are what is known about a period: when each period phase completed.
type PeriodFacts struct {
	Period Period
	// Completed maps a phase to the time it completed; a missing phase has not completed.
	Completed map[Phase]time.Time
}

// completed returns when a phase completed and whether it has.
func (f PeriodFacts) completed(ph Phase) (time.Time, bool) {
	t, ok := f.Completed[ph]
	return t, ok && !t.IsZero()
}

// BatchFacts are what is known about one batch (partner × period).
type BatchFacts struct {
	PeriodFacts
	// Emails are the messages sent in the thread, every level, in any order.
	Emails []Email
	// Open and Resolved count the batch's items by state.
	Open, Resolved int
	// LastResolved is when the most recent item resolved (zero when unknown).
	LastResolved time.Time

	// Partner replies (DESIGN §4.7).
	// RespondedAt is when the partner last replied in person (zero when never).
	RespondedAt time.Time
	// PausedUntil holds the ladder back: no ladder email is due before it.
	PausedUntil time.Time
	// Disputed counts open items the partner disputes: they are out of the
	// ladder, so a batch whose open items are all disputed gets no reminders.
	Disputed int
}

// Paused reports whether a partner's reply holds the ladder at now.
func (f BatchFacts) Paused(now time.Time) bool { return now.Before(f.PausedUntil) }

// ReEscalations counts the re-escalation messages staff have sent.
func (f BatchFacts) ReEscalations() int {
	n := 0
	for _, e := range f.Emails {
		if e.Level == LevelReEscalation {
			n++
		}
	}
	return n
}

// sent returns when the latest email of a level was sent.
func (f BatchFacts) sent(l Level) (time.Time, bool) {
	var at time.Time
	ok := false
	for _, e := range f.Emails {
		if e.Level == l && (!ok || e.At.After(at)) {
			at, ok = e.At, true
		}
	}
	return at, ok
}

// highestLadder returns the highest ladder level sent, or "".
func (f BatchFacts) highestLadder() Level {
	var best Level
	for _, e := range f.Emails {
		if e.Level.rank() > best.rank() {
			best = e.Level
		}
	}
	return best
}

// lastEmail returns the latest email (the later one in the slice on equal times).
func (f BatchFacts) lastEmail() (Email, bool) {
	var last Email
	ok := false
	for _, e := range f.Emails {
		if e.Level == LevelReply {
			continue // finance's own replies are conversation, not ladder steps
		}
		if !ok || !e.At.Before(last.At) {
			last, ok = e, true
		}
	}
	return last, ok
}

// State is the state of one step on a timeline.
type State string

// The step states.
const (
	StateDone     State = "done"
	StateDue      State = "due"
	StateLate     State = "late"
	StateUpcoming State = "upcoming"
	StateSkipped  State = "skipped"
	// StatePaused is a ladder step held back by a partner's reply.
	StatePaused State = "paused"
)

// StepView is one phase or email step as the batch page's timeline shows it.
type StepView struct {
	Phase Phase
	// Level is the email level for an email step, "" for a phase.
	Level Level
	// Start is when the step may start: its scheduled time, or its predecessor's completion
	// when that is later.
	Start time.Time
	// Deadline is the end (23:59:59 local) of the step's last day; zero when it has none.
	Deadline time.Time
	// Done is when the step completed; zero when it has not.
	Done  time.Time
	State State
	// Blocked means the predecessor has not completed, so Start is only the earliest possible.
	Blocked bool
}

func stepState(start, deadline, done time.Time, blocked bool, now time.Time) State {
	switch {
	case !done.IsZero():
		return StateDone
	case !deadline.IsZero() && now.After(deadline):
		return StateLate
	case blocked || now.Before(start):
		return StateUpcoming
	}
	return StateDue
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// PeriodTimeline returns the steps of the period-level phases (ingestion, validation, tracking).
func PeriodTimeline(p Policy, f PeriodFacts, now time.Time) []StepView {
	views := make([]StepView, 0, len(PeriodPhases))
	var prevDone time.Time
	prevOK := true
	for _, ph := range PeriodPhases {
		w, _ := p.Window(ph)
		v := StepView{
			Phase:    ph,
			Start:    p.DayStart(f.Period, w.First),
			Deadline: p.DayEnd(f.Period, w.Last),
			Blocked:  !prevOK,
		}
		if prevOK {
			v.Start = later(v.Start, prevDone)
		}
		done, ok := f.completed(ph)
		if ok {
			v.Done, v.Blocked = done, false
		}
		v.State = stepState(v.Start, v.Deadline, v.Done, v.Blocked, now)
		views = append(views, v)
		prevDone, prevOK = done, ok
	}
	return views
}

// PhaseDue returns the period-level phase that should run now, if any: the first phase not yet
// completed, once its window has opened and its predecessor has completed. A phase past its
// window stays due (and shows late) until it completes.
func PhaseDue(p Policy, f PeriodFacts, now time.Time) (Phase, bool) {
	for _, v := range PeriodTimeline(p, f, now) {
		switch v.State {
		case StateDone:
			continue
		case StateDue, StateLate:
			if !v.Blocked && !now.Before(v.Start) {
				return v.Phase, true
			}
		}
		return "", false
	}
	return "", false
}

// Timeline returns every step of a batch: the period phases, the ladder emails, re-escalations,
// monitoring and the closing message, each with its start, deadline and state at now.
func Timeline(p Policy, f BatchFacts, now time.Time) []StepView {
	views := PeriodTimeline(p, f.PeriodFacts, now)
	tracked, isTracked := f.completed(PhaseTracking)
	highest := f.highestLadder().rank()
	for _, l := range Ladder {
		ph := PhaseEscalation
		if l == LevelNotification {
			ph = PhaseNotification
		}
		v := StepView{
			Phase:    ph,
			Level:    l,
			Start:    p.SendTime(f.Period, p.ladderDay(l)),
			Deadline: p.ladderDeadline(f.Period, l),
			Blocked:  !isTracked,
		}
		if isTracked {
			v.Start = later(v.Start, tracked)
		}
		if at, ok := f.sent(l); ok {
			v.Done, v.Blocked = at, false
			v.State = StateDone
		} else if highest > l.rank() || (f.Open == 0 && isTracked) {
			v.State = StateSkipped
		} else {
			v.State = stepState(v.Start, v.Deadline, time.Time{}, v.Blocked, now)
			if f.Paused(now) && v.State != StateUpcoming {
				v.State = StatePaused
			}
		}
		views = append(views, v)
	}
	if !f.RespondedAt.IsZero() {
		views = append(views, StepView{Phase: PhasePartnerResponded, Start: f.RespondedAt, Done: f.RespondedAt,
			Deadline: f.PausedUntil, State: StateDone})
	}
	for _, e := range f.Emails {
		if e.Level == LevelReEscalation {
			views = append(views, StepView{Phase: PhaseEscalation, Level: LevelReEscalation, Start: e.At, Done: e.At, State: StateDone})
		}
	}

	mon := StepView{Phase: PhaseMonitoring, Start: p.DayStart(f.Period, p.Tracking.First)}
	if validated, ok := f.completed(PhaseValidation); ok {
		mon.Start = later(mon.Start, validated)
	} else {
		mon.Blocked = true
	}
	if f.Open == 0 && f.Resolved > 0 && !mon.Blocked {
		mon.Done = f.LastResolved
		if mon.Done.IsZero() {
			mon.Done = now
		}
	}
	mon.State = stepState(mon.Start, time.Time{}, mon.Done, mon.Blocked, now)
	views = append(views, mon)

	closing := StepView{Phase: PhaseMonitoring, Level: LevelClosing, Start: f.LastResolved}
	last, hasEmail := f.lastEmail()
	switch {
	case hasEmail && last.Level == LevelClosing:
		closing.Done, closing.State = last.At, StateDone
	case closingDue(p, f):
		closing.State = StateDue
	case f.Open == 0 && f.Resolved > 0:
		// Resolved without a closing message (none was sent before, or the
		// policy sends none): the batch is resolved all the same.
		closing.Done, closing.State = f.LastResolved, StateDone
	case !p.ClosingMessage:
		closing.State = StateSkipped
	default:
		closing.State = StateUpcoming
	}
	views = append(views, closing)
	return views
}

// Step is one email the tick should act on now.
type Step struct {
	Level Level
	// At is when the step became due.
	At time.Time
	// CCEscalation puts the partner's escalation contacts in CC (final reminder).
	CCEscalation bool
	// Skip means: record the level as skipped and send nothing, because a higher level is sent
	// instead (the scheduler was down). At most one returned step has Skip false.
	Skip bool
}

// Due returns what should happen for a batch at now: at most one email to send, first, followed
// by the lower ladder levels it supersedes, marked Skip. Ladder emails go only to batches with
// open items whose master file is ready (tracking completed); the closing message goes once the
// last item of a batch that has been emailed resolves.
func Due(p Policy, f BatchFacts, now time.Time) []Step {
	if f.Open == 0 {
		if closingDue(p, f) {
			at := f.LastResolved
			if last, ok := f.lastEmail(); ok {
				at = later(at, last.At)
			}
			return []Step{{Level: LevelClosing, At: at}}
		}
		return nil
	}
	tracked, ok := f.completed(PhaseTracking)
	if !ok || f.Paused(now) || f.Open <= f.Disputed {
		return nil
	}
	highest := f.highestLadder().rank()
	var due []Step
	for _, l := range Ladder {
		if l.rank() <= highest {
			continue
		}
		at := later(p.SendTime(f.Period, p.ladderDay(l)), tracked)
		if now.Before(at) {
			break
		}
		due = append(due, Step{Level: l, At: at, CCEscalation: l == LevelFinalReminder})
	}
	if len(due) == 0 {
		return nil
	}
	out := []Step{due[len(due)-1]}
	for i := len(due) - 2; i >= 0; i-- {
		s := due[i]
		s.Skip = true
		out = append(out, s)
	}
	return out
}

// closingDue reports whether the closing message should be sent: the policy wants it, every item
// is resolved, the thread has at least one email and its latest email is not already a closing.
func closingDue(p Policy, f BatchFacts) bool {
	if !p.ClosingMessage || f.Open != 0 || f.Resolved == 0 {
		return false
	}
	last, ok := f.lastEmail()
	return ok && last.Level != LevelClosing
}

// BatchStatus is a batch's state, derived from its timeline and items (§4.4).
type BatchStatus string

// The batch states.
const (
	BatchCollecting BatchStatus = "collecting"
	BatchValidated  BatchStatus = "validated"
	BatchTracked    BatchStatus = "tracked"
	BatchNotified   BatchStatus = "notified"
	BatchReminded   BatchStatus = "reminded"
	BatchEscalated  BatchStatus = "escalated"
	BatchOverdue    BatchStatus = "overdue"
	BatchResolved   BatchStatus = "resolved"
)

// BatchState returns the state of a batch at now: resolved when every item is, overdue
// after the escalation window's last day with items open, else the furthest step done.
func BatchState(p Policy, f BatchFacts, now time.Time) BatchStatus {
	if f.Open == 0 && f.Resolved > 0 {
		return BatchResolved
	}
	if f.Open > 0 && now.After(p.DayEnd(f.Period, p.Escalation.Last)) {
		return BatchOverdue
	}
	switch {
	case f.highestLadder() == LevelFinalReminder || f.ReEscalations() > 0:
		return BatchEscalated
	case f.highestLadder() == LevelReminder:
		return BatchReminded
	case f.highestLadder() == LevelNotification:
		return BatchNotified
	}
	if _, ok := f.completed(PhaseTracking); ok {
		return BatchTracked
	}
	if _, ok := f.completed(PhaseValidation); ok {
		return BatchValidated
	}
	return BatchCollecting
}
