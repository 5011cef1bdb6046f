package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
)

// The outbox states of a faulty-bookings email (DESIGN §4.6).
// The typed values are faulty.EmailState.
const (
	EmailPending = string(faulty.EmailPending)
	EmailSending = string(faulty.EmailSending)
	EmailSent    = string(faulty.EmailSent)
	EmailFailed  = string(faulty.EmailFailed)
	EmailUnknown = string(faulty.EmailUnknown)
)

// FaultyEmail is one outbox row: an email of a batch's thread.
type FaultyEmail struct {
	ID            int64      `json:"id"`
	BatchID       string     `json:"batch_id"`
	Seq           int        `json:"seq"`
	StepKey       string     `json:"step_key"`
	Level         string     `json:"level"`
	MessageID     string     `json:"message_id"`
	Subject       string     `json:"subject"`
	To            []string   `json:"to"`
	Cc            []string   `json:"cc"`
	BodyText      string     `json:"-"`
	BodyHTML      string     `json:"-"`
	MasterFileID  *int64     `json:"master_file_id"`
	MasterVersion *int       `json:"master_file_version"`
	PlannedAt     time.Time  `json:"planned_at"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	ServerReply   string     `json:"server_reply,omitempty"`
	SentAt        *time.Time `json:"sent_at"`
	Note          string     `json:"note,omitempty"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

const faultyEmailCols = `e.id, e.batch_id::text, e.seq, e.step_key, e.level, e.message_id, e.subject, e.to_addrs, e.cc_addrs,
	e.body_text, e.body_html, e.master_file_id, m.version, e.planned_at, e.state, e.attempts, e.last_error, e.server_reply,
	e.sent_at, e.note, e.created_by, e.created_at, e.updated_at`

const faultyEmailFrom = ` FROM faulty_emails e LEFT JOIN master_files m ON m.id = e.master_file_id`

func scanFaultyEmail(r pgx.Row) (FaultyEmail, error) {
	var e FaultyEmail
	err := r.Scan(&e.ID, &e.BatchID, &e.Seq, &e.StepKey, &e.Level, &e.MessageID, &e.Subject, &e.To, &e.Cc,
		&e.BodyText, &e.BodyHTML, &e.MasterFileID, &e.MasterVersion, &e.PlannedAt, &e.State, &e.Attempts, &e.LastError, &e.ServerReply,
		&e.SentAt, &e.Note, &e.CreatedBy, &e.CreatedAt, &e.UpdatedAt)
	return e, err
}

// NewFaultyEmail is an email decided by a ladder step or a staff action.
type NewFaultyEmail struct {
	BatchID      string
	Seq          int
	StepKey      string
	Level        string
	MessageID    string
	Subject      string
	To, Cc       []string
	BodyText     string
	BodyHTML     string
	MasterFileID *int64
	PlannedAt    time.Time
	Note         string
	CreatedBy    string
}

// InsertFaultyEmail adds an outbox row unless its step was already decided:
// the unique (batch_id, step_key) key decides, so inserted is false (and id
// 0) when another transaction or an earlier run got there first.
func InsertFaultyEmail(ctx context.Context, tx pgx.Tx, e NewFaultyEmail) (id int64, inserted bool, err error) {
	if e.To == nil {
		e.To = []string{}
	}
	if e.Cc == nil {
		e.Cc = []string{}
	}
	err = tx.QueryRow(ctx, `INSERT INTO faulty_emails (batch_id, seq, step_key, level, message_id, subject, to_addrs, cc_addrs,
			body_text, body_html, master_file_id, planned_at, note, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (batch_id, step_key) DO NOTHING
		RETURNING id`, e.BatchID, e.Seq, e.StepKey, e.Level, e.MessageID, e.Subject, e.To, e.Cc,
		e.BodyText, e.BodyHTML, e.MasterFileID, e.PlannedAt, e.Note, e.CreatedBy).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// FaultyEmailByID returns one outbox row.
func FaultyEmailByID(ctx context.Context, db DBTX, id int64) (FaultyEmail, error) {
	e, err := scanFaultyEmail(db.QueryRow(ctx, `SELECT `+faultyEmailCols+faultyEmailFrom+` WHERE e.id = $1`, id))
	return e, notFound(err, "The email")
}

// FaultyEmailsByBatch returns a batch's thread, oldest first.
func FaultyEmailsByBatch(ctx context.Context, db DBTX, batchID string) ([]FaultyEmail, error) {
	rows, err := db.Query(ctx, `SELECT `+faultyEmailCols+faultyEmailFrom+` WHERE e.batch_id = $1 ORDER BY e.seq`, batchID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FaultyEmail, error) { return scanFaultyEmail(r) })
}

// FaultyEmailCounts counts outbox rows by state.
func FaultyEmailCounts(ctx context.Context, db DBTX) (map[string]int, error) {
	rows, err := db.Query(ctx, `SELECT state, count(*) FROM faulty_emails GROUP BY state`)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { out[state] = n; return nil })
	return out, err
}

// Claim is what a send attempt found when it locked an outbox row.
type Claim int

// The outcomes of ClaimFaultyEmail.
const (
	// ClaimSend: the row was pending and is now sending; send it.
	ClaimSend Claim = iota + 1
	// ClaimDone: the row is sent, failed or unknown already; do nothing.
	ClaimDone
	// ClaimUnknown: the row was found sending (an earlier attempt died or lost
	// its connection mid-send); it is now unknown and must not be resent.
	ClaimUnknown
)

// ClaimFaultyEmail locks the row and moves it on: pending → sending
// (attempts+1), sending → unknown, anything else unchanged. Commit tx before
// talking to the SMTP server so a crash leaves the row in sending.
func ClaimFaultyEmail(ctx context.Context, tx pgx.Tx, id int64, at time.Time) (FaultyEmail, Claim, error) {
	e, err := scanFaultyEmail(tx.QueryRow(ctx, `SELECT `+faultyEmailCols+faultyEmailFrom+` WHERE e.id = $1 FOR UPDATE OF e`, id))
	if err != nil {
		return e, 0, notFound(err, "The email")
	}
	switch e.State {
	case EmailPending:
		err = tx.QueryRow(ctx, `UPDATE faulty_emails SET state = 'sending', attempts = attempts + 1, updated_at = $2
			WHERE id = $1 RETURNING attempts`, id, at).Scan(&e.Attempts)
		e.State = EmailSending
		return e, ClaimSend, err
	case EmailSending:
		_, err = tx.Exec(ctx, `UPDATE faulty_emails SET state = 'unknown', updated_at = $2,
			last_error = 'Found in sending by a later attempt: the earlier attempt stopped or lost its connection mid-send. Not resent; check with the partner, then mark it sent or resend it.'
			WHERE id = $1`, id, at)
		e.State = EmailUnknown
		return e, ClaimUnknown, err
	}
	return e, ClaimDone, nil
}

// FinishFaultyEmail records the outcome of the send attempt number attempt:
// state sent (with the server's reply), pending (to retry), failed or
// unknown. Only that attempt's row changes, so a late result cannot
// overwrite a newer attempt; it reports whether the row changed.
func FinishFaultyEmail(ctx context.Context, db DBTX, id int64, attempt int, state, reply, errText string, at time.Time) (bool, error) {
	var sentAt *time.Time
	if state == EmailSent {
		sentAt = &at
	}
	tag, err := db.Exec(ctx, `UPDATE faulty_emails SET state = $3, server_reply = CASE WHEN $4 <> '' THEN $4 ELSE server_reply END,
			last_error = $5, sent_at = coalesce($6, sent_at), updated_at = $7
		WHERE id = $1 AND attempts = $2 AND state IN ('sending', 'unknown')`, id, attempt, state, reply, errText, sentAt, at)
	return tag.RowsAffected() == 1, err
}

// MarkFaultyEmailSent records, with a note, that staff confirmed an
// unknown (or failed) email did reach the partner.
func MarkFaultyEmailSent(ctx context.Context, tx pgx.Tx, id int64, note string, at time.Time) (before, after FaultyEmail, err error) {
	if strings.TrimSpace(note) == "" {
		return before, after, NoteRequired("Write a note saying how you know the email arrived (e.g. the partner confirmed it).")
	}
	if before, err = lockEmailFor(ctx, tx, id, "marked as sent"); err != nil {
		return before, after, err
	}
	_, err = tx.Exec(ctx, `UPDATE faulty_emails SET state = 'sent', sent_at = coalesce(sent_at, $2), note = $3,
		server_reply = CASE WHEN server_reply = '' THEN 'marked sent by staff' ELSE server_reply END, updated_at = $2 WHERE id = $1`, id, at, note)
	if err != nil {
		return before, after, err
	}
	after, err = FaultyEmailByID(ctx, tx, id)
	return before, after, err
}

// ResendFaultyEmail puts an unknown (or failed) email back to pending so
// that it is sent again with the same Message-ID; the caller enqueues the
// send job in tx.
func ResendFaultyEmail(ctx context.Context, tx pgx.Tx, id int64, note string, at time.Time) (before, after FaultyEmail, err error) {
	if before, err = lockEmailFor(ctx, tx, id, "resent"); err != nil {
		return before, after, err
	}
	_, err = tx.Exec(ctx, `UPDATE faulty_emails SET state = 'pending', note = CASE WHEN $2 <> '' THEN $2 ELSE note END,
		last_error = '', updated_at = $3 WHERE id = $1`, id, note, at)
	if err != nil {
		return before, after, err
	}
	after, err = FaultyEmailByID(ctx, tx, id)
	return before, after, err
}

// lockEmailFor locks an email that staff act on; only unknown and failed
// emails may be marked sent or resent.
func lockEmailFor(ctx context.Context, tx pgx.Tx, id int64, what string) (FaultyEmail, error) {
	e, err := scanFaultyEmail(tx.QueryRow(ctx, `SELECT `+faultyEmailCols+faultyEmailFrom+` WHERE e.id = $1 FOR UPDATE OF e`, id))
	if err != nil {
		return e, notFound(err, "The email")
	}
	if e.State != EmailUnknown && e.State != EmailFailed {
		return e, apperror.New(apperror.Conflict, "This email is %s; only an email whose outcome is unknown or that failed can be %s. Reload the page to see its state.", e.State, what)
	}
	return e, nil
}

// ThreadSoFar returns, for a locked batch, the next seq and the planned
// times of the emails already in its thread (the Thread-Index inputs).
func ThreadSoFar(ctx context.Context, tx pgx.Tx, batchID string) (next int, times []time.Time, err error) {
	rows, err := tx.Query(ctx, `SELECT planned_at FROM faulty_emails WHERE batch_id = $1 ORDER BY seq`, batchID)
	if err != nil {
		return 0, nil, err
	}
	times, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
	return len(times) + 1, times, err
}

// FaultyAttachment returns the bytes and version of a master file version.
func FaultyAttachment(ctx context.Context, db DBTX, masterFileID int64) (version int, data []byte, err error) {
	err = db.QueryRow(ctx, `SELECT version, data FROM master_files WHERE id = $1`, masterFileID).Scan(&version, &data)
	return version, data, notFound(err, "The master file")
}
