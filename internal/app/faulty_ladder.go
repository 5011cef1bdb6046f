package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
	"recondesk/internal/mail"
	"recondesk/internal/masterfile"
	"recondesk/internal/notify"
	"recondesk/internal/store"
)

// TickEvery is the interval of the periodic faulty.tick job.
const TickEvery = 15 * time.Minute

// The outcomes of a due step in a tick.
const (
	StepDecided        = "decided"         // an email was queued
	StepAlreadyDecided = "already_decided" // an earlier or concurrent run queued it
	StepSkipped        = "skipped"         // a higher level went instead
	StepNotDue         = "not_due"         // the batch changed before the decision
)

// TickInput says what a tick evaluates.
type TickInput struct {
	// Now is the time the timeline is evaluated at; zero means the App's clock.
	Now time.Time
	// Actor is the audit actor (system:faulty.tick, the CLI or a user).
	Actor Actor
	// BatchIDs limits the run to these batches; nil means every active batch.
	BatchIDs []string
}

// TickStep is what a tick did with one due step of a batch.
type TickStep struct {
	Level   faulty.Level `json:"level"`
	StepKey string       `json:"step_key,omitempty"`
	// Outcome is decided, already_decided, skipped or not_due (Step* constants).
	Outcome   string `json:"outcome"`
	EmailID   int64  `json:"email_id,omitempty"`
	Seq       int    `json:"seq,omitempty"`
	MessageID string `json:"message_id,omitempty"`
}

// TickBatch is one batch a tick found steps due for.
type TickBatch struct {
	BatchID string             `json:"batch_id"`
	PartyID string             `json:"party_id"`
	Partner string             `json:"partner"`
	Period  string             `json:"period"`
	State   faulty.BatchStatus `json:"state"`
	Steps   []TickStep         `json:"steps"`
}

// TickResult is what one tick decided.
type TickResult struct {
	Now       time.Time   `json:"now"`
	Evaluated int         `json:"batches_evaluated"`
	Decided   int         `json:"emails_decided"`
	Batches   []TickBatch `json:"batches"`
}

// tickParallel is how many batches a tick decides at once.
const tickParallel = 4

// Tick evaluates every active batch's timeline (facts loaded in two queries) and, for each
// batch with a due step, decides the email in one transaction: lock the batch, re-check the
// step on fresh facts, write the master file version, insert the outbox row (the unique step
// key makes a second run a no-op), queue faulty.send, audit.
func (a *App) Tick(ctx context.Context, in TickInput) (TickResult, error) {
	if in.Now.IsZero() {
		in.Now = a.Now()
	}
	in.Now = in.Now.Truncate(time.Microsecond)
	res := TickResult{Now: in.Now, Batches: []TickBatch{}}
	batches, err := store.LoadLadderBatches(ctx, a.Pool, store.LadderFilter{IDs: in.BatchIDs, Active: true})
	if err != nil {
		return res, err
	}
	res.Evaluated = len(batches)
	policy := a.FaultyPolicy()
	type work struct {
		b   store.LadderBatch
		due []faulty.Step
	}
	var todo []work
	for _, b := range batches {
		if due := faulty.Due(policy, b.Facts, in.Now); len(due) > 0 {
			todo = append(todo, work{b, due})
		}
	}
	out := make([]TickBatch, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tickParallel)
	for i, w := range todo {
		g.Go(func() error {
			tb, err := a.decideBatch(gctx, in, w.b, w.due)
			out[i] = tb
			return err
		})
	}
	err = g.Wait()
	for _, tb := range out {
		if tb.BatchID == "" {
			continue
		}
		if len(tb.Steps) > 0 && tb.Steps[0].Outcome == StepDecided {
			res.Decided++
			a.Metrics.Events.WithLabelValues("faulty.tick", StepDecided).Inc()
		}
		res.Batches = append(res.Batches, tb)
	}
	if err != nil {
		return res, err
	}
	a.Logger.Info("faulty tick", "now", in.Now, "evaluated", res.Evaluated, "decided", res.Decided)
	return res, nil
}

// decideBatch decides the first due step of one batch in a transaction and reports the steps
// it superseded.
func (a *App) decideBatch(ctx context.Context, in TickInput, b store.LadderBatch, due []faulty.Step) (TickBatch, error) {
	tb := TickBatch{BatchID: b.ID, PartyID: b.PartyID, Partner: b.PartnerName, Period: b.Period.String()}
	var step TickStep
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		step, err = a.decideDue(ctx, tx, in, b.ID, due[0].Level, nil)
		return err
	})
	if err != nil {
		return TickBatch{}, fmt.Errorf("batch %s: %w", b.ID, err)
	}
	tb.Steps = append(tb.Steps, step)
	fresh := b.Facts
	if step.Outcome == StepDecided {
		for _, s := range due[1:] {
			tb.Steps = append(tb.Steps, TickStep{Level: s.Level, StepKey: string(s.Level), Outcome: StepSkipped})
		}
		fresh.Emails = append(slices.Clone(fresh.Emails), faulty.Email{Level: step.Level, At: in.Now})
	}
	tb.State = faulty.BatchState(a.FaultyPolicy(), fresh, in.Now)
	return tb, nil
}

// decideDue decides the email of a due ladder or closing step under the batch lock. When
// only is set, a due level outside it is left to the tick (not_due): resolving items decides
// the closing message and never a reminder that happens to be due.
func (a *App) decideDue(ctx context.Context, tx pgx.Tx, in TickInput, batchID string, level faulty.Level, only []faulty.Level) (TickStep, error) {
	step := TickStep{Level: level}
	b, err := lockedLadderBatch(ctx, tx, batchID)
	if err != nil {
		return step, err
	}
	due := faulty.Due(a.FaultyPolicy(), b.Facts, in.Now)
	if len(due) == 0 || due[0].Level != level || (only != nil && !slices.Contains(only, level)) {
		step.Outcome = StepNotDue
		if len(due) > 0 || countLevel(b, level) > 0 {
			step.Outcome = StepAlreadyDecided
		}
		return step, nil
	}
	step.StepKey = string(level)
	if level == faulty.LevelClosing {
		if n := countLevel(b, faulty.LevelClosing); n > 0 {
			step.StepKey = fmt.Sprintf("%s:%d", faulty.LevelClosing, n+1)
		}
	}
	e, inserted, err := a.decideEmail(ctx, tx, b, emailSpec{
		level: level, stepKey: step.StepKey, ccEscalation: due[0].CCEscalation, at: in.Now, actor: in.Actor.String(),
		reason: "ladder step due",
	})
	if err != nil {
		return step, err
	}
	if !inserted {
		step.Outcome = StepAlreadyDecided
		return step, nil
	}
	step.Outcome, step.EmailID, step.Seq, step.MessageID = StepDecided, e.ID, e.Seq, e.MessageID
	for _, s := range due[1:] {
		err := store.Audit(ctx, tx, in.Actor.String(), "faulty.step_skipped", "faulty_batch", batchID, nil,
			map[string]any{"level": s.Level, "due_at": s.At, "instead": level}, "a higher level was due at the same time (scheduler downtime): only the highest is sent")
		if err != nil {
			return step, err
		}
	}
	return step, nil
}

// LevelText is a level in words, lower case ("final reminder").
func LevelText(l faulty.Level) string { return strings.ReplaceAll(string(l), "_", " ") }

func countLevel(b store.LadderBatch, l faulty.Level) int {
	n := 0
	for _, e := range b.Emails {
		if e.Level == l {
			n++
		}
	}
	return n
}

// emailSpec is one email to decide.
type emailSpec struct {
	level        faulty.Level
	stepKey      string
	ccEscalation bool
	note         string
	at           time.Time
	actor        string
	reason       string
}

// DecidedEmail is an inserted outbox row.
type DecidedEmail struct {
	store.NewFaultyEmail
	ID int64
}

// decideEmail composes the email of a locked batch b (bodies rendered by internal/notify),
// inserts its outbox row, queues its send job and audits it, all in tx.
func (a *App) decideEmail(ctx context.Context, tx pgx.Tx, b store.LadderBatch, s emailSpec) (DecidedEmail, bool, error) {
	var out DecidedEmail
	var mfID *int64
	mfVersion := 0
	policy := a.FaultyPolicy()
	seq, times, err := store.ThreadSoFar(ctx, tx, b.ID)
	if err != nil {
		return out, false, err
	}
	th, err := mail.ThreadHeaders(mail.ThreadParams{BatchID: b.ID, Seq: seq, Domain: a.mailDomain(),
		PartnerName: b.PartnerName, PartyID: b.PartyID, Period: b.Period.String(), Times: append(times, s.at), Tagged: true})
	if err != nil {
		return out, false, err
	}
	to := slices.Clone(b.To)
	cc := slices.Clone(b.Cc)
	if s.ccEscalation {
		cc = append(cc, b.Escalation...)
	}
	cc = dedupeAddrs(cc, to)
	regen := a.Faulty.MasterFile
	if regen == nil {
		// The file lists the thread up to and including the email it travels with.
		regen = regenerateMasterFile(a.masterFileZone(), s.at, &masterfile.Email{Seq: seq, Level: string(s.level),
			MessageID: th.MessageID, State: CarriedEmailState, SentAt: s.at, To: to, CC: cc})
	}
	id, v, err := regen(ctx, tx, b.ID, "before the "+LevelText(s.level)+" email")
	if err != nil {
		return out, false, fmt.Errorf("master file: %w", err)
	}
	if v > 0 {
		mfID, mfVersion = &id, v
	}
	// Bookings under an open dispute are out of the ladder: listed apart, never as open.
	items, err := store.LadderItems(ctx, tx, b.ID, store.LadderItemFilter{State: store.ItemOpen, Dispute: store.DisputeNone, Limit: notify.MaxEmailItems})
	if err != nil {
		return out, false, err
	}
	disputed, err := store.LadderItems(ctx, tx, b.ID, store.LadderItemFilter{State: store.ItemOpen, Dispute: store.DisputeOpen, Limit: notify.MaxEmailItems})
	if err != nil {
		return out, false, err
	}
	// The notes of disputes finance rejected go into the next email.
	rejected, err := store.PendingRejectionNotes(ctx, tx, b.ID)
	if err != nil {
		return out, false, err
	}
	data := notify.EmailData{
		PartnerName: b.PartnerName, PartyID: b.PartyID, Period: b.Period.String(), Level: s.level,
		Open: b.Facts.Open - b.Facts.Disputed, Disputed: b.Facts.Disputed, Resolved: b.Facts.Resolved, Note: joinNotes(s.note, rejected),
		Deadline: policy.DayEnd(b.Period, policy.Escalation.Last),
	}
	for _, e := range b.Emails {
		data.Earlier = append(data.Earlier, e.Level)
	}
	if s.level == faulty.LevelReEscalation {
		data.ReEscalation = b.Facts.ReEscalations() + 1
	}
	for _, it := range items {
		data.Items = append(data.Items, EmailItemOf(it, policy.Location))
	}
	for _, it := range disputed {
		data.DisputedItems = append(data.DisputedItems, EmailItemOf(it, policy.Location))
	}
	if mfID != nil {
		data.Attachment = notify.AttachmentName(b.PartyID, b.Period.String(), mfVersion)
	}
	html, err := notify.HTML(ctx, data)
	if err != nil {
		return out, false, err
	}
	out.NewFaultyEmail = store.NewFaultyEmail{
		BatchID: b.ID, Seq: seq, StepKey: s.stepKey, Level: string(s.level), MessageID: th.MessageID, Subject: th.Subject,
		To: to, Cc: cc, BodyText: notify.Text(data), BodyHTML: html, MasterFileID: mfID,
		PlannedAt: s.at, Note: s.note, CreatedBy: s.actor,
	}
	id, inserted, err := store.InsertFaultyEmail(ctx, tx, out.NewFaultyEmail)
	if err != nil || !inserted {
		return out, inserted, err
	}
	out.ID = id
	if _, err := store.TakeRejectionNotes(ctx, tx, b.ID, id); err != nil {
		return out, false, err
	}
	if _, err := a.followUpTx(ctx, tx, FaultySendArgs{EmailID: id}, nil); err != nil {
		return out, false, fmt.Errorf("enqueue faulty.send: %w", err)
	}
	after := map[string]any{"email_id": id, "seq": seq, "step_key": s.stepKey, "level": s.level, "message_id": th.MessageID,
		"to": to, "cc": cc, "master_file_version": mfVersion, "open": b.Facts.Open, "resolved": b.Facts.Resolved}
	if err := store.Audit(ctx, tx, s.actor, "faulty.email_decided", "faulty_batch", b.ID, nil, after, firstNonEmpty(s.note, s.reason)); err != nil {
		return out, false, err
	}
	return out, true, nil
}

// EmailItemOf turns a batch item into the line an email lists.
func EmailItemOf(it store.LadderItem, loc *time.Location) notify.EmailItem {
	if loc == nil {
		loc = time.UTC
	}
	ei := notify.EmailItem{Reference: it.AuthRef, Station: firstNonEmpty(it.StationName, it.StationID), Reasons: it.FaultReasons}
	if it.Start != nil {
		ei.Start = it.Start.In(loc).Format("2006-01-02 15:04")
	}
	if it.Energy != nil {
		ei.KWh = it.Energy.KWh()
	}
	return ei
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// dedupeAddrs drops empty and repeated addresses and those already in skip.
func dedupeAddrs(addrs, skip []string) []string {
	seen := map[string]bool{}
	for _, a := range skip {
		seen[strings.ToLower(strings.TrimSpace(a))] = true
	}
	out := []string{}
	for _, a := range addrs {
		k := strings.ToLower(strings.TrimSpace(a))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, strings.TrimSpace(a))
	}
	return out
}

// Reescalate decides a re-escalation: another message in the batch's thread with the
// escalation contacts in CC and staff's note, step key re_escalation:N. It returns the new
// outbox row (its send job queued in the same transaction).
func (a *App) Reescalate(ctx context.Context, actor Actor, batchID, note string, now time.Time) (store.FaultyEmail, error) {
	if strings.TrimSpace(note) == "" {
		return store.FaultyEmail{}, store.NoteRequired("Write a note for the partner saying why you escalate again.")
	}
	if now.IsZero() {
		now = a.Now()
	}
	now = now.Truncate(time.Microsecond)
	var id int64
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		b, err := lockedLadderBatch(ctx, tx, batchID)
		if err != nil {
			return err
		}
		if b.Facts.Open == 0 {
			return apperror.New(apperror.Rule, "This batch is resolved: every booking is resolved, so there is nothing to escalate.")
		}
		if len(b.To) == 0 {
			return apperror.New(apperror.Rule, "Partner %s has no To address; add one on the partner's page, then escalate.", b.PartyID)
		}
		n := b.Facts.ReEscalations() + 1
		e, inserted, err := a.decideEmail(ctx, tx, b, emailSpec{
			level: faulty.LevelReEscalation, stepKey: fmt.Sprintf("%s:%d", faulty.LevelReEscalation, n), ccEscalation: true,
			note: strings.TrimSpace(note), at: now, actor: actor.String(),
		})
		if err != nil {
			return err
		}
		if !inserted {
			return apperror.New(apperror.Conflict, "Another re-escalation was decided at the same moment; reload the page.")
		}
		id = e.ID
		return nil
	})
	if err != nil {
		return store.FaultyEmail{}, err
	}
	a.Metrics.Events.WithLabelValues("faulty.re_escalation", StepDecided).Inc()
	return store.FaultyEmailByID(ctx, a.Pool, id)
}

// Resolved is what resolving items did.
type Resolved struct {
	// Items is how many open items were resolved.
	Items int `json:"resolved"`
	// Open is how many stay open.
	Open int `json:"open"`
	// Closing is the closing message queued when the last item resolved (nil otherwise).
	Closing *TickStep `json:"closing,omitempty"`
}

// ResolveItems resolves the given open items of a batch manually with a note (nil ids means
// every open item), in one transaction with its audit event. When that resolves the batch's
// last open item, the closing message is decided in the same transaction (and only it: a
// reminder that happens to be due is left to the tick).
func (a *App) ResolveItems(ctx context.Context, actor Actor, batchID string, itemIDs []int64, note string) (Resolved, error) {
	if itemIDs != nil && len(itemIDs) == 0 && strings.TrimSpace(note) != "" {
		return Resolved{}, apperror.New(apperror.Invalid, "Select at least one open booking to resolve (or use Resolve batch).")
	}
	return a.resolve(ctx, actor, batchID, note, func(tx pgx.Tx) (int, error) {
		return store.ResolveItems(ctx, tx, batchID, itemIDs, store.ResolvedManual, note, actor.String())
	})
}

// ResolveMatching resolves every open item of a batch that matches the filter's state,
// reason and search, chosen server-side in the same transaction (the "all N matching"
// of the batch page), with a note; otherwise as ResolveItems.
func (a *App) ResolveMatching(ctx context.Context, actor Actor, batchID string, f store.LadderItemFilter, note string) (Resolved, error) {
	if f.State == store.ItemResolved {
		return Resolved{}, apperror.New(apperror.Rule, "The filter shows resolved bookings only; there is nothing open to resolve.")
	}
	return a.resolve(ctx, actor, batchID, note, func(tx pgx.Tx) (int, error) {
		n, err := store.ResolveMatchingItems(ctx, tx, batchID, f, store.ResolvedManual, note, actor.String())
		if err != nil || n > 0 {
			return n, err
		}
		b, err := store.LoadLadderBatch(ctx, tx, batchID)
		if err != nil || b.Facts.Open == 0 {
			return 0, err // resolve says the batch is resolved
		}
		return 0, apperror.New(apperror.Rule, "No open booking matches the filter; nothing was resolved.")
	})
}

// resolve runs a resolution (pick resolves the chosen items in tx) under the batch lock and
// decides the closing message when no item stays open.
func (a *App) resolve(ctx context.Context, actor Actor, batchID, note string, pick func(pgx.Tx) (int, error)) (Resolved, error) {
	var out Resolved
	if strings.TrimSpace(note) == "" {
		return out, store.NoteRequired("Write a note saying why these bookings are resolved.")
	}
	now := a.Now().Truncate(time.Microsecond)
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.LockLadderBatch(ctx, tx, batchID); err != nil {
			return err
		}
		n, err := pick(tx)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperror.New(apperror.Rule, "This batch is resolved: it has no open bookings left to resolve.")
		}
		out.Items = n
		b, err := store.LoadLadderBatch(ctx, tx, batchID)
		if err != nil {
			return err
		}
		out.Open = b.Facts.Open
		if b.Facts.Open > 0 {
			return nil
		}
		step, err := a.decideDue(ctx, tx, TickInput{Now: now, Actor: actor}, batchID, faulty.LevelClosing, []faulty.Level{faulty.LevelClosing})
		if err != nil {
			return err
		}
		if step.Outcome == StepDecided {
			out.Closing = &step
		}
		return nil
	})
	return out, err
}

// ResolveBatch resolves every open item of a batch with a note (see ResolveItems).
func (a *App) ResolveBatch(ctx context.Context, actor Actor, batchID, note string) (Resolved, error) {
	return a.ResolveItems(ctx, actor, batchID, nil, note)
}

// RunBatchNow decides a batch's due ladder step now (what the next tick would do for it):
// one batch, one email at most, so it runs in the request.
func (a *App) RunBatchNow(ctx context.Context, actor Actor, batchID string) (TickStep, error) {
	b, err := store.LoadLadderBatch(ctx, a.Pool, batchID)
	if err != nil {
		return TickStep{}, err
	}
	res, err := a.Tick(ctx, TickInput{Actor: actor, BatchIDs: []string{batchID}})
	if err != nil {
		return TickStep{}, err
	}
	if res.Decided == 0 && b.Facts.Open == 0 && b.Facts.Resolved > 0 {
		return TickStep{}, apperror.New(apperror.Rule, "This batch is resolved: every booking is resolved, so no ladder step runs for it.")
	}
	if res.Decided == 0 {
		return TickStep{}, apperror.New(apperror.Rule, "Nothing is due for this batch now: its ladder step was already sent or is not due yet (see the timeline).")
	}
	return res.Batches[0].Steps[0], nil
}

// joinNotes joins a step's note with the notes of rejected disputes.
func joinNotes(note string, rejected []string) string {
	if len(rejected) == 0 {
		return note
	}
	var parts []string
	if strings.TrimSpace(note) != "" {
		parts = append(parts, note)
	}
	parts = append(parts, "Disputes we could not accept: "+strings.Join(rejected, "; "))
	return strings.Join(parts, "\n\n")
}

// lockedLadderBatch takes the batch's lock in tx and loads it, so every decision on the batch
// reads what no concurrent decision can change before tx ends.
func lockedLadderBatch(ctx context.Context, tx pgx.Tx, batchID string) (store.LadderBatch, error) {
	if err := store.LockLadderBatch(ctx, tx, batchID); err != nil {
		return store.LadderBatch{}, err
	}
	return store.LoadLadderBatch(ctx, tx, batchID)
}
