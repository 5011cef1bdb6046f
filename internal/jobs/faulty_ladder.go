package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"golang.org/x/sync/errgroup"

	"recondesk/internal/apperror"
	"recondesk/internal/config"
	"recondesk/internal/faulty"
	"recondesk/internal/mail"
	"recondesk/internal/masterfile"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
	views "recondesk/views/faulty"
)

// TickEvery is the interval of the periodic faulty.tick job.
const TickEvery = 15 * time.Minute

// Mailer delivers one message and returns the server's final reply; a
// *mail.Sender is one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (string, error)
}

// MasterFileFunc writes a new master file version of a batch inside tx (the
// regeneration that precedes each email) and returns its id and version.
type MasterFileFunc func(ctx context.Context, tx pgx.Tx, batchID, reason string) (id int64, version int, err error)

// FaultyLadderDeps are what the tick and the sender need.
type FaultyLadderDeps struct {
	// Sender delivers the emails; nil leaves them pending (a temporary failure).
	Sender Mailer
	// Policy sets the ladder's days and send hour.
	Policy faulty.Policy
	// MailFrom is the From address; MailDomain the domain of Message-IDs.
	MailFrom, MailDomain string
	// MaxAttempts bounds send attempts on temporary failures (default DefaultSendAttempts).
	MaxAttempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MasterFile writes the master file version each email carries; nil
	// regenerates it (RegenerateMasterFile). KeepMasterFile attaches the
	// latest version as it is instead.
	MasterFile MasterFileFunc
	// RetryDelay overrides River's backoff between send attempts (tests).
	RetryDelay time.Duration
}

// RegenerateMasterFile writes the batch's next master file version (items,
// statuses and the thread so far) in tx: what every email carries.
func RegenerateMasterFile(loc *time.Location, now time.Time) MasterFileFunc {
	return func(ctx context.Context, tx pgx.Tx, batchID, reason string) (int64, int, error) {
		content, err := store.LoadMasterFileContent(ctx, tx, []string{batchID}, loc, now)
		if err != nil {
			return 0, 0, err
		}
		data, err := masterfile.Build(content[0])
		if err != nil {
			return 0, 0, err
		}
		m, err := store.AddMasterFileVersion(ctx, tx, batchID, data, reason)
		return m.ID, m.Version, err
	}
}

// KeepMasterFile attaches the batch's latest master file version unchanged
// (none when it has none).
func KeepMasterFile(ctx context.Context, tx pgx.Tx, batchID, reason string) (int64, int, error) {
	m, ok, err := store.LatestLadderMasterFile(ctx, tx, batchID)
	if err != nil || !ok {
		return 0, 0, err
	}
	return m.ID, m.Version, nil
}

// FaultyLadderFromConfig returns the ladder's dependencies for a process:
// the policy in EMSP_TZ at SEND_HOUR and an SMTP sender for SMTP_URL (none
// when it is empty).
func FaultyLadderFromConfig(cfg config.Config) (FaultyLadderDeps, error) {
	d := FaultyLadderDeps{Policy: LadderPolicy(cfg), MailFrom: cfg.MailFrom, MailDomain: cfg.MailDomain}
	if cfg.SMTPURL != "" {
		s, err := mail.NewSender(cfg.SMTPURL, mail.SenderOptions{})
		if err != nil {
			return d, fmt.Errorf("SMTP_URL: %w", err)
		}
		d.Sender = s
	}
	return d, nil
}

// LadderPolicy is the default policy in EMSP_TZ with SEND_HOUR.
func LadderPolicy(cfg config.Config) faulty.Policy {
	p := faulty.DefaultPolicy(cfg.EMSPTZ)
	p.SendHour = cfg.SendHour
	return p
}

// withDefaults fills an unset policy with the default one (UTC, 09:00).
func (d FaultyLadderDeps) withDefaults() FaultyLadderDeps {
	if d.Policy.Notification.First == 0 {
		d.Policy = faulty.DefaultPolicy(nil)
	}
	return d
}

func (d FaultyLadderDeps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d FaultyLadderDeps) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return DefaultSendAttempts
}

func (d FaultyLadderDeps) domain() string {
	if d.MailDomain != "" {
		return d.MailDomain
	}
	return "recondesk.local"
}

// TickRun is what RunFaultyTick needs.
type TickRun struct {
	Pool *pgxpool.Pool
	// Client enqueues faulty.send in the transaction of each decision; nil
	// leaves the emails pending for a later enqueue.
	Client *river.Client[pgx.Tx]
	Ladder FaultyLadderDeps
	Now    time.Time
	// Actor is the audit actor (system:faulty.tick or a user).
	Actor string
	// BatchIDs limits the run to these batches (Run now); nil means every active batch.
	BatchIDs []string
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
}

// TickStep is what a tick did with one due step of a batch.
type TickStep struct {
	Level   faulty.Level `json:"level"`
	StepKey string       `json:"step_key,omitempty"`
	// Outcome is decided (an email was queued), already_decided (an earlier or
	// concurrent run queued it), skipped (a higher level went instead) or
	// not_due (the batch changed before the decision).
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

// RunFaultyTick evaluates every active batch's timeline at r.Now (facts
// loaded in two queries) and, for each batch with a due step, decides the
// email in one transaction: lock the batch, re-check the step on fresh
// facts, regenerate or pick the master file, insert the outbox row (the
// unique step key makes a second run a no-op), enqueue faulty.send, audit.
func RunFaultyTick(ctx context.Context, r TickRun) (TickResult, error) {
	r.Ladder = r.Ladder.withDefaults()
	if r.Now.IsZero() {
		r.Now = r.Ladder.now()
	}
	r.Now = r.Now.Truncate(time.Microsecond)
	res := TickResult{Now: r.Now, Batches: []TickBatch{}}
	batches, err := store.LoadLadderBatches(ctx, r.Pool, store.LadderFilter{IDs: r.BatchIDs, Active: true})
	if err != nil {
		return res, err
	}
	res.Evaluated = len(batches)
	// Each due batch is decided in its own transaction under its own lock, a
	// few at a time; the results keep the batches' order.
	type work struct {
		b   store.LadderBatch
		due []faulty.Step
	}
	var todo []work
	for _, b := range batches {
		if due := faulty.Due(r.Ladder.Policy, b.Facts, r.Now); len(due) > 0 {
			todo = append(todo, work{b, due})
		}
	}
	out := make([]TickBatch, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tickParallel)
	for i, w := range todo {
		g.Go(func() error {
			tb, err := decideBatch(gctx, r, w.b, w.due)
			out[i] = tb
			return err
		})
	}
	err = g.Wait()
	for _, tb := range out {
		if tb.BatchID == "" {
			continue
		}
		if len(tb.Steps) > 0 && tb.Steps[0].Outcome == "decided" {
			res.Decided++
			r.count("faulty.tick", "decided")
		}
		res.Batches = append(res.Batches, tb)
	}
	if err != nil {
		return res, err
	}
	if r.Logger != nil {
		r.Logger.Info("faulty tick", "now", r.Now, "evaluated", res.Evaluated, "decided", res.Decided)
	}
	return res, nil
}

// tickParallel is how many batches a tick decides at once.
const tickParallel = 4

// decideBatch decides the first due step of one batch in a transaction and
// reports the steps it superseded.
func decideBatch(ctx context.Context, r TickRun, b store.LadderBatch, due []faulty.Step) (TickBatch, error) {
	tb := TickBatch{BatchID: b.ID, PartyID: b.PartyID, Partner: b.PartnerName, Period: b.Period.String()}
	var step TickStep
	err := store.InTx(ctx, r.Pool, func(tx pgx.Tx) error {
		var err error
		step, err = decideDue(ctx, tx, r, b.ID, due[0].Level)
		return err
	})
	if err != nil {
		return TickBatch{}, fmt.Errorf("batch %s: %w", b.ID, err)
	}
	tb.Steps = append(tb.Steps, step)
	fresh := b.Facts
	if step.Outcome == "decided" {
		for _, s := range due[1:] {
			tb.Steps = append(tb.Steps, TickStep{Level: s.Level, StepKey: string(s.Level), Outcome: "skipped"})
		}
		fresh.Emails = append(slices.Clone(fresh.Emails), faulty.Email{Level: step.Level, At: r.Now})
	}
	tb.State = faulty.BatchState(r.Ladder.Policy, fresh, r.Now)
	return tb, nil
}

func (r TickRun) count(event, outcome string) {
	if r.Metrics != nil {
		r.Metrics.Events.WithLabelValues(event, outcome).Inc()
	}
}

// decideDue decides the email of a due ladder or closing step under the batch lock.
func decideDue(ctx context.Context, tx pgx.Tx, r TickRun, batchID string, level faulty.Level) (TickStep, error) {
	step := TickStep{Level: level}
	if err := store.LockLadderBatch(ctx, tx, batchID); err != nil {
		return step, err
	}
	b, err := store.LoadLadderBatch(ctx, tx, batchID)
	if err != nil {
		return step, err
	}
	due := faulty.Due(r.Ladder.Policy, b.Facts, r.Now)
	if len(due) == 0 || due[0].Level != level {
		step.Outcome = "not_due"
		if len(due) > 0 || alreadyHas(b, level) {
			step.Outcome = "already_decided"
		}
		return step, nil
	}
	step.StepKey = string(level)
	if level == faulty.LevelClosing {
		if n := countLevel(b, faulty.LevelClosing); n > 0 {
			step.StepKey = fmt.Sprintf("%s:%d", faulty.LevelClosing, n+1)
		}
	}
	e, inserted, err := decideEmail(ctx, tx, r.Ladder, b, emailSpec{
		level: level, stepKey: step.StepKey, ccEscalation: due[0].CCEscalation, at: r.Now, actor: r.Actor,
		reason: "ladder step due", client: r.Client,
	})
	if err != nil {
		return step, err
	}
	if !inserted {
		step.Outcome = "already_decided"
		return step, nil
	}
	step.Outcome, step.EmailID, step.Seq, step.MessageID = "decided", e.id, e.Seq, e.MessageID
	for _, s := range due[1:] {
		err := store.Audit(ctx, tx, r.Actor, "faulty.step_skipped", "faulty_batch", batchID, nil,
			map[string]any{"level": s.Level, "due_at": s.At, "instead": level}, "a higher level was due at the same time (scheduler downtime): only the highest is sent")
		if err != nil {
			return step, err
		}
	}
	return step, nil
}

// LevelText is a level in words, lower case ("final reminder").
func LevelText(l faulty.Level) string { return strings.ReplaceAll(string(l), "_", " ") }

func alreadyHas(b store.LadderBatch, l faulty.Level) bool { return countLevel(b, l) > 0 }

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
	client       *river.Client[pgx.Tx]
}

// decidedEmail is an inserted outbox row.
type decidedEmail struct {
	store.NewFaultyEmail
	id int64
}

// decideEmail composes the email of a locked batch b, inserts its outbox row,
// enqueues its send job and audits it, all in tx.
func decideEmail(ctx context.Context, tx pgx.Tx, d FaultyLadderDeps, b store.LadderBatch, s emailSpec) (decidedEmail, bool, error) {
	var out decidedEmail
	var mfID *int64
	mfVersion := 0
	regen := d.MasterFile
	if regen == nil {
		regen = RegenerateMasterFile(d.Policy.Location, s.at)
	}
	id, v, err := regen(ctx, tx, b.ID, "before the "+LevelText(s.level)+" email")
	if err != nil {
		return out, false, fmt.Errorf("master file: %w", err)
	}
	if v > 0 {
		mfID, mfVersion = &id, v
	}
	seq, times, err := store.ThreadSoFar(ctx, tx, b.ID)
	if err != nil {
		return out, false, err
	}
	th, err := mail.ThreadHeaders(mail.ThreadParams{BatchID: b.ID, Seq: seq, Domain: d.domain(),
		PartnerName: b.PartnerName, PartyID: b.PartyID, Period: b.Period.String(), Times: append(times, s.at), Tagged: true})
	if err != nil {
		return out, false, err
	}
	items, err := store.LadderItems(ctx, tx, b.ID, store.LadderItemFilter{State: "open", Limit: views.MaxEmailItems})
	if err != nil {
		return out, false, err
	}
	loc := d.Policy.Location
	if loc == nil {
		loc = time.UTC
	}
	// Inbox: the notes of rejected disputes go into the next email.
	rejected, err := store.PendingRejectionNotes(ctx, tx, b.ID)
	if err != nil {
		return out, false, err
	}
	data := views.EmailData{
		PartnerName: b.PartnerName, PartyID: b.PartyID, Period: b.Period.String(), Level: s.level,
		Open: b.Facts.Open, Resolved: b.Facts.Resolved, Note: joinNotes(s.note, rejected),
		Deadline: d.Policy.DayEnd(b.Period, d.Policy.Escalation.Last),
	}
	if s.level == faulty.LevelReEscalation {
		data.ReEscalation = b.Facts.ReEscalations() + 1
	}
	for _, it := range items {
		ei := EmailItemOf(it, loc)
		data.Items = append(data.Items, ei)
	}
	if mfID != nil {
		data.Attachment = views.AttachmentName(b.PartyID, b.Period.String(), mfVersion)
	}
	var html bytes.Buffer
	if err := views.EmailHTML(data).Render(ctx, &html); err != nil {
		return out, false, err
	}
	to := slices.Clone(b.To)
	cc := slices.Clone(b.Cc)
	if s.ccEscalation {
		cc = append(cc, b.Escalation...)
	}
	cc = dedupeAddrs(cc, to)
	out.NewFaultyEmail = store.NewFaultyEmail{
		BatchID: b.ID, Seq: seq, StepKey: s.stepKey, Level: string(s.level), MessageID: th.MessageID, Subject: th.Subject,
		To: to, Cc: cc, BodyText: views.EmailText(data), BodyHTML: html.String(), MasterFileID: mfID,
		PlannedAt: s.at, Note: s.note, CreatedBy: s.actor,
	}
	id, inserted, err := store.InsertFaultyEmail(ctx, tx, out.NewFaultyEmail)
	if err != nil || !inserted {
		return out, inserted, err
	}
	out.id = id
	if _, err := store.TakeRejectionNotes(ctx, tx, b.ID, id); err != nil {
		return out, false, err
	}
	if s.client != nil {
		if _, err := s.client.InsertTx(ctx, tx, FaultySendArgs{EmailID: id}, nil); err != nil {
			return out, false, fmt.Errorf("enqueue faulty.send: %w", err)
		}
	}
	after := map[string]any{"email_id": id, "seq": seq, "step_key": s.stepKey, "level": s.level, "message_id": th.MessageID,
		"to": to, "cc": cc, "master_file_version": mfVersion, "open": b.Facts.Open, "resolved": b.Facts.Resolved}
	if err := store.Audit(ctx, tx, s.actor, "faulty.email_decided", "faulty_batch", b.ID, nil, after, firstNonEmpty(s.note, s.reason)); err != nil {
		return out, false, err
	}
	return out, true, nil
}

// EmailItemOf turns a batch item into the line an email lists.
func EmailItemOf(it store.LadderItem, loc *time.Location) views.EmailItem {
	ei := views.EmailItem{Reference: it.AuthRef, Station: firstNonEmpty(it.StationName, it.StationID), Reasons: it.FaultReasons}
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

// EscalateRun is what EscalateBatch needs.
type EscalateRun struct {
	Pool    *pgxpool.Pool
	Client  *river.Client[pgx.Tx]
	Ladder  FaultyLadderDeps
	BatchID string
	Note    string
	Actor   string
	Now     time.Time
	Metrics *metrics.Metrics
}

// EscalateBatch decides a re-escalation: another message in the batch's
// thread with the escalation contacts in CC and staff's note, step key
// re_escalation:N. It returns the new outbox row.
func EscalateBatch(ctx context.Context, r EscalateRun) (store.FaultyEmail, error) {
	if strings.TrimSpace(r.Note) == "" {
		return store.FaultyEmail{}, store.NoteRequired("Write a note for the partner saying why you escalate again.")
	}
	r.Ladder = r.Ladder.withDefaults()
	if r.Now.IsZero() {
		r.Now = r.Ladder.now()
	}
	r.Now = r.Now.Truncate(time.Microsecond)
	var id int64
	err := store.InTx(ctx, r.Pool, func(tx pgx.Tx) error {
		if err := store.LockLadderBatch(ctx, tx, r.BatchID); err != nil {
			return err
		}
		b, err := store.LoadLadderBatch(ctx, tx, r.BatchID)
		if err != nil {
			return err
		}
		if b.Facts.Open == 0 {
			return apperror.New(apperror.Rule, "Every booking of this batch is resolved; there is nothing to escalate.")
		}
		if len(b.To) == 0 {
			return apperror.New(apperror.Rule, "Partner %s has no To address; add one on the partner's page, then escalate.", b.PartyID)
		}
		n := b.Facts.ReEscalations() + 1
		e, inserted, err := decideEmail(ctx, tx, r.Ladder, b, emailSpec{
			level: faulty.LevelReEscalation, stepKey: fmt.Sprintf("%s:%d", faulty.LevelReEscalation, n), ccEscalation: true,
			note: strings.TrimSpace(r.Note), at: r.Now, actor: r.Actor, client: r.Client,
		})
		if err != nil {
			return err
		}
		if !inserted {
			return apperror.New(apperror.Conflict, "Another re-escalation was decided at the same moment; reload the page.")
		}
		id = e.id
		return nil
	})
	if err != nil {
		return store.FaultyEmail{}, err
	}
	if r.Metrics != nil {
		r.Metrics.Events.WithLabelValues("faulty.re_escalation", "decided").Inc()
	}
	return store.FaultyEmailByID(ctx, r.Pool, id)
}

// SendResult is what one send attempt did.
type SendResult struct {
	State   string
	Outcome mail.Outcome
	Reply   string
	Err     error
}

// SendFaultyEmail makes one attempt at an outbox row (DESIGN §4.6): lock;
// sent/failed/unknown → nothing; found sending → unknown, never resent;
// pending → commit sending, SMTP, commit the outcome. A temporary failure
// returns the row to pending and an error (so River retries) unless final
// is set, when it becomes failed.
func SendFaultyEmail(ctx context.Context, pool *pgxpool.Pool, d FaultyLadderDeps, m *metrics.Metrics, emailID int64, final bool, actor string) (SendResult, error) {
	count := func(state string) {
		if m != nil {
			m.Events.WithLabelValues("faulty.email", state).Inc()
		}
	}
	var e store.FaultyEmail
	var claim store.Claim
	err := store.InTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		e, claim, err = store.ClaimFaultyEmail(ctx, tx, emailID, d.now())
		if err != nil || claim != store.ClaimUnknown {
			return err
		}
		return store.Audit(ctx, tx, actor, "faulty.email_unknown", "faulty_email", fmt.Sprint(emailID),
			map[string]any{"state": store.EmailSending}, map[string]any{"state": store.EmailUnknown, "message_id": e.MessageID},
			"found in sending by a later attempt; not resent automatically")
	})
	if err != nil {
		return SendResult{}, err
	}
	switch claim {
	case store.ClaimDone:
		return SendResult{State: e.State}, nil
	case store.ClaimUnknown:
		count(store.EmailUnknown)
		return SendResult{State: store.EmailUnknown, Outcome: mail.Unknown}, nil
	}

	reply, sendErr := deliver(ctx, pool, d, e)
	outcome := mail.Classify(sendErr)
	state := map[mail.Outcome]string{mail.Sent: store.EmailSent, mail.Temporary: store.EmailPending,
		mail.Permanent: store.EmailFailed, mail.Unknown: store.EmailUnknown}[outcome]
	if outcome == mail.Temporary && (final || e.Attempts >= d.maxAttempts()) {
		state = store.EmailFailed
	}
	errText := ""
	if sendErr != nil {
		errText = sendErr.Error()
	}
	// Record the outcome even when ctx was cancelled mid-send.
	wctx := context.WithoutCancel(ctx)
	err = store.InTx(wctx, pool, func(tx pgx.Tx) error {
		changed, err := store.FinishFaultyEmail(wctx, tx, e.ID, e.Attempts, state, reply, errText, d.now())
		if err != nil || !changed || state == store.EmailPending {
			return err
		}
		return store.Audit(wctx, tx, actor, "faulty.email_"+state, "faulty_email", fmt.Sprint(e.ID),
			map[string]any{"state": store.EmailSending, "attempts": e.Attempts},
			map[string]any{"state": state, "message_id": e.MessageID, "reply": reply, "error": errText, "outcome": outcome.String()}, "")
	})
	if err != nil {
		return SendResult{}, err
	}
	count(state)
	res := SendResult{State: state, Outcome: outcome, Reply: reply, Err: sendErr}
	if state == store.EmailPending {
		return res, fmt.Errorf("faulty email %d: temporary failure, will retry: %w", e.ID, sendErr)
	}
	return res, nil
}

// errNoSender is a temporary failure: the process has no SMTP server configured.
var errNoSender = fmt.Errorf("%w: no SMTP server is configured (SMTP_URL)", mail.ErrConnect)

// deliver builds the message of row e (thread headers from the stored
// planned times, the attached master file version) and sends it.
func deliver(ctx context.Context, pool *pgxpool.Pool, d FaultyLadderDeps, e store.FaultyEmail) (string, error) {
	if d.Sender == nil {
		return "", errNoSender
	}
	msg, err := BuildFaultyMessage(ctx, pool, d.MailFrom, e)
	if err != nil {
		if errors.Is(err, mail.ErrInvalidMessage) {
			return "", err
		}
		return "", fmt.Errorf("%w: build message: %w", mail.ErrConnect, err)
	}
	return d.Sender.Send(ctx, msg)
}

// BuildFaultyMessage turns an outbox row into the message to send: its
// stored Message-ID and subject, In-Reply-To/References/Thread-Index from
// the thread's earlier rows, both bodies and the master file attached.
func BuildFaultyMessage(ctx context.Context, db store.DBTX, from string, e store.FaultyEmail) (mail.Message, error) {
	rows, err := db.Query(ctx, `SELECT message_id, planned_at FROM faulty_emails WHERE batch_id = $1 AND seq <= $2 ORDER BY seq`, e.BatchID, e.Seq)
	if err != nil {
		return mail.Message{}, err
	}
	var ids []string
	var times []time.Time
	var id string
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &at}, func() error {
		ids, times = append(ids, id), append(times, at)
		return nil
	}); err != nil {
		return mail.Message{}, err
	}
	if len(times) != e.Seq {
		return mail.Message{}, fmt.Errorf("thread of batch %s has %d emails up to seq %d", e.BatchID, len(times), e.Seq)
	}
	guid, err := mail.ThreadGUID(e.BatchID)
	if err != nil {
		return mail.Message{}, err
	}
	msg := mail.Message{
		From: from, To: e.To, Cc: e.Cc, Subject: e.Subject, MessageID: e.MessageID,
		References:  mail.References(ids[:len(ids)-1]),
		ThreadTopic: strings.TrimPrefix(e.Subject, mail.ReplyPrefix),
		ThreadIndex: mail.ThreadIndex(times[0], guid, times[1:]),
		Text:        e.BodyText, HTML: e.BodyHTML, Date: e.PlannedAt,
	}
	if len(ids) > 1 {
		msg.InReplyTo = ids[len(ids)-2]
	}
	if e.MasterFileID != nil {
		version, data, err := store.FaultyAttachment(ctx, db, *e.MasterFileID)
		if err != nil {
			return mail.Message{}, err
		}
		var partyID, period string
		if err := db.QueryRow(ctx, `SELECT p.party_id, b.period FROM faulty_batches b JOIN partners p ON p.id = b.partner_id WHERE b.id = $1`,
			e.BatchID).Scan(&partyID, &period); err != nil {
			return mail.Message{}, err
		}
		msg.Attachments = []mail.Attachment{{Name: views.AttachmentName(partyID, period, version),
			ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: data}}
	}
	return msg, nil
}

// FaultyTickWorker runs the tick.
type FaultyTickWorker struct {
	river.WorkerDefaults[FaultyTickArgs]
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Ladder  FaultyLadderDeps
}

// Work evaluates every active batch once and decides the due emails.
func (w *FaultyTickWorker) Work(ctx context.Context, job *river.Job[FaultyTickArgs]) error {
	client, _ := river.ClientFromContextSafely[pgx.Tx](ctx)
	res, err := RunFaultyTick(ctx, TickRun{Pool: w.Pool, Client: client, Ladder: w.Ladder, Actor: store.SystemActor(job.Args.Kind()),
		Metrics: w.Metrics})
	if err != nil {
		return err
	}
	w.Logger.Info("faulty tick", "job_id", job.ID, "evaluated", res.Evaluated, "decided", res.Decided)
	return nil
}

// FaultySendWorker sends one outbox email.
type FaultySendWorker struct {
	river.WorkerDefaults[FaultySendArgs]
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Ladder  FaultyLadderDeps
}

// Work makes one send attempt; a temporary failure returns an error so River
// retries, the last attempt turns it into failed.
func (w *FaultySendWorker) Work(ctx context.Context, job *river.Job[FaultySendArgs]) error {
	final := job.Attempt >= job.MaxAttempts
	res, err := SendFaultyEmail(ctx, w.Pool, w.Ladder, w.Metrics, job.Args.EmailID, final, store.SystemActor(job.Args.Kind()))
	if apperror.CodeOf(err) == apperror.NotFound {
		return river.JobCancel(err)
	}
	w.Logger.Info("faulty send", "job_id", job.ID, "email_id", job.Args.EmailID, "attempt", job.Attempt, "state", res.State, "outcome", res.Outcome.String())
	return err
}

// NextRetry applies the configured retry delay, if any.
func (w *FaultySendWorker) NextRetry(job *river.Job[FaultySendArgs]) time.Time {
	if w.Ladder.RetryDelay > 0 {
		return time.Now().Add(w.Ladder.RetryDelay)
	}
	return time.Time{}
}

// Timeout bounds one send attempt (the SMTP timeout is shorter).
func (w *FaultySendWorker) Timeout(*river.Job[FaultySendArgs]) time.Duration { return 3 * time.Minute }

// addFaultyLadderWorkers registers the tick and send workers.
func addFaultyLadderWorkers(w *river.Workers, d Deps) {
	l := d.Faulty.Ladder
	river.AddWorker(w, &FaultyTickWorker{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics, Ladder: l})
	river.AddWorker(w, &FaultySendWorker{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics, Ladder: l})
}

// faultyLadderPeriodic lists the ladder's periodic jobs: faulty.tick every
// 15 minutes. Not run on start: a process that (re)starts waits for the next
// interval, so short-lived processes (tests, CLI) do not send emails as a
// side effect.
func faultyLadderPeriodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(TickEvery), func() (river.JobArgs, *river.InsertOpts) {
			return FaultyTickArgs{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: TickEvery}}
		}, &river.PeriodicJobOpts{ID: FaultyTickArgs{}.Kind()}),
	}
}
