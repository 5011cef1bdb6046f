package store

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/apperror"
)

// inboxLockKey is the advisory lock one inbox poll holds at a time.
const inboxLockKey = 0x1b0c_0300

// TryLockInbox takes the session advisory lock of the inbox poll on conn;
// false means another poll holds it. Release it with UnlockInbox.
func TryLockInbox(ctx context.Context, conn *pgxpool.Conn) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, inboxLockKey).Scan(&ok)
	return ok, err
}

// UnlockInbox releases the lock taken by TryLockInbox.
func UnlockInbox(ctx context.Context, conn *pgxpool.Conn) error {
	_, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, inboxLockKey)
	return err
}

// AsyncCommit lets tx commit without waiting for the WAL flush. The inbox
// stores each message with its UID in one transaction, so a commit lost in a
// crash loses both and the message is fetched again: consistent, and many
// times faster than a flush per message. SaveInboxUID in a normal
// transaction (before mail is moved) makes every earlier commit durable.
func AsyncCommit(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`)
	return err
}

// InboxLastUID returns the last UID processed in a mailbox under one UIDVALIDITY (0 when none).
func InboxLastUID(ctx context.Context, db DBTX, mailbox string, uidValidity uint32) (uint32, error) {
	var last int64
	err := db.QueryRow(ctx, `SELECT last_uid FROM inbox_mailboxes WHERE mailbox = $1 AND uid_validity = $2`,
		mailbox, int64(uidValidity)).Scan(&last)
	if err == pgx.ErrNoRows {
		return 0, nil
	}
	return uint32(last), err
}

// SaveInboxUID records uid as processed (the highest UID wins), in the
// transaction that stored the message.
func SaveInboxUID(ctx context.Context, tx pgx.Tx, mailbox string, uidValidity, uid uint32) error {
	_, err := tx.Exec(ctx, `INSERT INTO inbox_mailboxes (mailbox, uid_validity, last_uid) VALUES ($1, $2, $3)
		ON CONFLICT (mailbox, uid_validity) DO UPDATE SET last_uid = greatest(inbox_mailboxes.last_uid, excluded.last_uid), updated_at = now()`,
		mailbox, int64(uidValidity), int64(uid))
	return err
}

// NewInbound is one received message to store.
type NewInbound struct {
	DedupeKey, MessageID     string
	Mailbox                  string
	UIDValidity, UID         uint32
	From                     string
	To                       []string
	Subject, InReplyTo, Refs string
	SentAt                   *time.Time
	ReceivedAt               time.Time
	Size                     int
	SHA256, Kind             string
	BatchID                  *string
	MatchedBy                string
	BodyText, BodyHTML       string
	PausesUntil              *time.Time
	Problems                 []string
	FailedRcpts              []string
	Attachments              []NewInboundAttachment
}

// NewInboundAttachment is one attachment of a received message.
type NewInboundAttachment struct {
	Name, ContentType, SHA256 string
	Data                      []byte
}

// InsertInbound stores a message once: false when its dedupe key (Message-ID
// or hash) is already stored, in which case nothing is written.
func InsertInbound(ctx context.Context, tx pgx.Tx, m NewInbound) (int64, bool, error) {
	problems, err := json.Marshal(nonNil(m.Problems))
	if err != nil {
		return 0, false, err
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO inbound_messages (dedupe_key, message_id, mailbox, uid_validity, uid, from_addr, to_addrs,
			subject, in_reply_to, refs, sent_at, received_at, size, sha256, kind, batch_id, matched_by, body_text, body_html,
			pauses_until, problems, failed_rcpts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::uuid, $17, $18, $19, $20, $21, $22)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
		m.DedupeKey, m.MessageID, m.Mailbox, int64(m.UIDValidity), int64(m.UID), m.From, nonNil(m.To), m.Subject, m.InReplyTo, m.Refs,
		m.SentAt, m.ReceivedAt, m.Size, m.SHA256, m.Kind, m.BatchID, m.MatchedBy, m.BodyText, m.BodyHTML, m.PausesUntil, problems,
		nonNil(m.FailedRcpts)).Scan(&id)
	if err == pgx.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	for i, a := range m.Attachments {
		if _, err := tx.Exec(ctx, `INSERT INTO inbound_attachments (message_id, seq, name, content_type, size, sha256, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, i+1, a.Name, a.ContentType, len(a.Data), a.SHA256, a.Data); err != nil {
			return 0, false, err
		}
	}
	return id, true, nil
}

// AddInboundProblems appends reasons to a stored message's problems.
func AddInboundProblems(ctx context.Context, tx pgx.Tx, id int64, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	b, err := json.Marshal(problems)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE inbound_messages SET problems = problems || $2::jsonb WHERE id = $1`, id, b)
	return err
}

// BatchByMessageIDs returns the batch whose thread holds one of refs (lower-case
// Message-IDs), preferring the earliest ref; ok is false when none does.
func BatchByMessageIDs(ctx context.Context, db DBTX, refs []string) (batchID, ref string, ok bool, err error) {
	if len(refs) == 0 {
		return "", "", false, nil
	}
	rows, err := db.Query(ctx, `SELECT lower(message_id), batch_id::text FROM faulty_emails WHERE lower(message_id) = ANY($1)`, refs)
	if err != nil {
		return "", "", false, err
	}
	found := map[string]string{}
	var mid, bid string
	if _, err := pgx.ForEachRow(rows, []any{&mid, &bid}, func() error { found[mid] = bid; return nil }); err != nil {
		return "", "", false, err
	}
	for _, r := range refs {
		if b, ok := found[r]; ok {
			return b, r, true, nil
		}
	}
	return "", "", false, nil
}

// BatchByToken returns the batch of a period and party id (a subject token).
func BatchByToken(ctx context.Context, db DBTX, period, partyID string) (string, bool, error) {
	var id string
	err := db.QueryRow(ctx, `SELECT b.id::text FROM faulty_batches b JOIN partners p ON p.id = b.partner_id
		WHERE b.period = $1 AND upper(p.party_id) = upper($2)`, period, partyID).Scan(&id)
	if err == pgx.ErrNoRows {
		return "", false, nil
	}
	return id, err == nil, err
}

// BatchPartnerID returns the partner of a batch.
func BatchPartnerID(ctx context.Context, db DBTX, batchID string) (int64, error) {
	if !IsUUID(batchID) {
		return 0, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	var id int64
	err := db.QueryRow(ctx, `SELECT partner_id FROM faulty_batches WHERE id = $1::uuid`, batchID).Scan(&id)
	return id, notFound(err, "The batch")
}

// RefItem is an item a returned master file names.
type RefItem struct {
	ID    int64
	State string
}

// ItemsByRefs returns the batch's items by booking reference, and the refs
// that belong to another partner's batch (foreign).
func ItemsByRefs(ctx context.Context, db DBTX, batchID string, refs []string) (map[string]RefItem, map[string]bool, error) {
	rows, err := db.Query(ctx, `SELECT i.auth_ref, i.id, i.state, i.batch_id = $1::uuid
		FROM faulty_items i WHERE i.auth_ref = ANY($2)`, batchID, refs)
	if err != nil {
		return nil, nil, err
	}
	own, foreign := map[string]RefItem{}, map[string]bool{}
	var ref, state string
	var id int64
	var mine bool
	_, err = pgx.ForEachRow(rows, []any{&ref, &id, &state, &mine}, func() error {
		if mine {
			own[ref] = RefItem{ID: id, State: state}
		} else {
			foreign[ref] = true
		}
		return nil
	})
	for r := range own {
		delete(foreign, r)
	}
	return own, foreign, err
}

// ItemResponse is one partner response to record.
type ItemResponse struct {
	ItemID   int64
	Response string
	Note     string
}

// RecordItemResponses stores a returned file's responses as item history,
// opens a dispute for each Disputed item and returns how many disputes opened.
func RecordItemResponses(ctx context.Context, tx pgx.Tx, batchID string, inboundID int64, rs []ItemResponse, actor string, at time.Time) (int, error) {
	disputes := 0
	for _, r := range rs {
		var respID int64
		err := tx.QueryRow(ctx, `INSERT INTO faulty_item_responses (item_id, batch_id, inbound_message_id, response, note, recheck, at)
			VALUES ($1, $2::uuid, $3, $4, $5, $4 IN ('paid', 'credited'), $6)
			ON CONFLICT (inbound_message_id, item_id) DO NOTHING RETURNING id`,
			r.ItemID, batchID, inboundID, r.Response, r.Note, at).Scan(&respID)
		if err == pgx.ErrNoRows {
			continue
		}
		if err != nil {
			return disputes, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO faulty_item_events (item_id, at, from_state, to_state, how, note, actor)
			SELECT id, $2, state, state, 'partner_response:' || $3, $4, $5 FROM faulty_items WHERE id = $1`,
			r.ItemID, at, r.Response, r.Note, actor); err != nil {
			return disputes, err
		}
		if r.Response == "disputed" {
			tag, err := tx.Exec(ctx, `INSERT INTO faulty_disputes (item_id, batch_id, response_id, partner_note)
				SELECT $1, $2::uuid, $3, $4 FROM faulty_items WHERE id = $1 AND state = 'open'
				ON CONFLICT (item_id) WHERE state = 'open' DO NOTHING`, r.ItemID, batchID, respID, r.Note)
			if err != nil {
				return disputes, err
			}
			disputes += int(tag.RowsAffected())
		}
	}
	return disputes, nil
}

// RecordRecipientFailures marks addresses of a partner as failing (once while not cleared).
func RecordRecipientFailures(ctx context.Context, tx pgx.Tx, partnerID int64, batchID string, inboundID int64, addrs, reasons []string) error {
	for i, a := range addrs {
		if _, err := tx.Exec(ctx, `INSERT INTO partner_recipient_failures (partner_id, address, reason, batch_id, inbound_message_id)
			VALUES ($1, $2, $3, $4::uuid, $5) ON CONFLICT (partner_id, lower(address)) WHERE cleared_at IS NULL DO NOTHING`,
			partnerID, a, reasons[i], batchID, inboundID); err != nil {
			return err
		}
	}
	return nil
}

// RecipientFailure is an address a bounce reported as failing.
type RecipientFailure struct {
	PartnerID   int64
	PartyID     string
	PartnerName string
	Address     string
	Reason      string
	BatchID     string
	At          time.Time
}

// RecipientFailures returns the failing addresses not cleared, of one partner
// (partnerID > 0) or of all.
func RecipientFailures(ctx context.Context, db DBTX, partnerID int64) ([]RecipientFailure, error) {
	rows, err := db.Query(ctx, `SELECT f.partner_id, p.party_id, p.name, f.address, f.reason, coalesce(f.batch_id::text, ''), f.at
		FROM partner_recipient_failures f JOIN partners p ON p.id = f.partner_id
		WHERE f.cleared_at IS NULL AND ($1 = 0 OR f.partner_id = $1) ORDER BY p.name, f.address`, partnerID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RecipientFailure, error) {
		var f RecipientFailure
		err := r.Scan(&f.PartnerID, &f.PartyID, &f.PartnerName, &f.Address, &f.Reason, &f.BatchID, &f.At)
		return f, err
	})
}

// Inbound is a stored message as pages show it.
type Inbound struct {
	ID          int64
	MessageID   string
	From        string
	To          []string
	Subject     string
	ReceivedAt  time.Time
	Kind        string
	BatchID     string
	MatchedBy   string
	BodyText    string
	BodyHTML    string
	PausesUntil *time.Time
	Problems    []string
	FailedRcpts []string
	AttachedBy  string
	Attachments []InboundAttachment
}

// InboundAttachment describes one stored attachment (without its bytes).
type InboundAttachment struct {
	ID          int64
	Seq         int
	Name        string
	ContentType string
	Size        int
	SHA256      string
}

const inboundCols = `m.id, m.message_id, m.from_addr, m.to_addrs, m.subject, m.received_at, m.kind, coalesce(m.batch_id::text, ''),
	m.matched_by, m.body_text, m.body_html, m.pauses_until, m.problems, m.failed_rcpts, m.attached_by`

func scanInbound(r pgx.CollectableRow) (Inbound, error) {
	var m Inbound
	var problems []byte
	err := r.Scan(&m.ID, &m.MessageID, &m.From, &m.To, &m.Subject, &m.ReceivedAt, &m.Kind, &m.BatchID, &m.MatchedBy,
		&m.BodyText, &m.BodyHTML, &m.PausesUntil, &problems, &m.FailedRcpts, &m.AttachedBy)
	if err == nil {
		err = json.Unmarshal(problems, &m.Problems)
	}
	return m, err
}

// InboundFilter selects stored messages.
type InboundFilter struct {
	// BatchID lists a batch's messages, oldest first; Unmatched the queue, newest first.
	BatchID   string
	Unmatched bool
	ID        int64
	Limit     int
}

// ListInbound returns stored messages with their attachments' metadata.
func ListInbound(ctx context.Context, db DBTX, f InboundFilter) ([]Inbound, error) {
	q := `SELECT ` + inboundCols + ` FROM inbound_messages m`
	var args []any
	switch {
	case f.ID != 0:
		q += ` WHERE m.id = $1`
		args = append(args, f.ID)
	case f.BatchID != "":
		if !IsUUID(f.BatchID) {
			return nil, apperror.New(apperror.NotFound, "The batch was not found.")
		}
		q += ` WHERE m.batch_id = $1::uuid ORDER BY m.received_at, m.id`
		args = append(args, f.BatchID)
	case f.Unmatched:
		q += ` WHERE m.batch_id IS NULL ORDER BY m.received_at DESC, m.id DESC`
	default:
		q += ` ORDER BY m.received_at DESC, m.id DESC`
	}
	if f.Limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	ms, err := pgx.CollectRows(rows, scanInbound)
	if err != nil || len(ms) == 0 {
		return ms, err
	}
	ids := make([]int64, len(ms))
	index := map[int64]int{}
	for i, m := range ms {
		ids[i], index[m.ID] = m.ID, i
	}
	rows, err = db.Query(ctx, `SELECT message_id, id, seq, name, content_type, size, sha256 FROM inbound_attachments
		WHERE message_id = ANY($1) ORDER BY message_id, seq`, ids)
	if err != nil {
		return nil, err
	}
	var mid int64
	var a InboundAttachment
	_, err = pgx.ForEachRow(rows, []any{&mid, &a.ID, &a.Seq, &a.Name, &a.ContentType, &a.Size, &a.SHA256}, func() error {
		ms[index[mid]].Attachments = append(ms[index[mid]].Attachments, a)
		return nil
	})
	return ms, err
}

// CountUnmatchedInbound counts the messages waiting in the unmatched queue.
func CountUnmatchedInbound(ctx context.Context, db DBTX) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM inbound_messages WHERE batch_id IS NULL`).Scan(&n)
	return n, err
}

// InboundAttachmentData returns one attachment of a message with its bytes.
func InboundAttachmentData(ctx context.Context, db DBTX, messageID, attachmentID int64) (InboundAttachment, []byte, error) {
	var a InboundAttachment
	var data []byte
	err := db.QueryRow(ctx, `SELECT id, seq, name, content_type, size, sha256, data FROM inbound_attachments
		WHERE message_id = $1 AND id = $2`, messageID, attachmentID).Scan(&a.ID, &a.Seq, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &data)
	return a, data, notFound(err, "The attachment")
}

// AttachInbound files an unmatched message under a batch (locked; a message
// already filed is a conflict) and returns it as it was.
func AttachInbound(ctx context.Context, tx pgx.Tx, id int64, batchID, actor string, pausesUntil *time.Time) (Inbound, error) {
	if !IsUUID(batchID) {
		return Inbound{}, apperror.FieldErrors(map[string]string{"batch_id": "Choose a batch."})
	}
	rows, err := tx.Query(ctx, `SELECT `+inboundCols+` FROM inbound_messages m WHERE m.id = $1 FOR UPDATE`, id)
	if err != nil {
		return Inbound{}, err
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanInbound)
	if err != nil {
		return m, notFound(err, "The message")
	}
	if m.BatchID != "" {
		return m, apperror.New(apperror.Conflict, "This message is already filed under a batch; reload the page.")
	}
	if _, err := BatchPartnerID(ctx, tx, batchID); err != nil {
		return m, err
	}
	_, err = tx.Exec(ctx, `UPDATE inbound_messages SET batch_id = $2::uuid, matched_by = 'manual', attached_by = $3,
		pauses_until = CASE WHEN kind = 'human' THEN $4 ELSE pauses_until END WHERE id = $1`, id, batchID, actor, pausesUntil)
	return m, err
}

// Dispute is an item a partner disputes.
type Dispute struct {
	ID           int64
	ItemID       int64
	AuthRef      string
	BatchID      string
	PartyID      string
	PartnerName  string
	Period       string
	State        string
	PartnerNote  string
	DecidedBy    string
	DecidedAt    *time.Time
	DecisionNote string
	CreatedAt    time.Time
}

// DisputeFilter selects disputes.
type DisputeFilter struct {
	BatchID string
	// State is open, accepted or rejected; "" means every state.
	State string
	ID    int64
}

// ListDisputes returns disputes, newest first.
func ListDisputes(ctx context.Context, db DBTX, f DisputeFilter) ([]Dispute, error) {
	if f.BatchID != "" && !IsUUID(f.BatchID) {
		return nil, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	rows, err := db.Query(ctx, `SELECT d.id, d.item_id, i.auth_ref, d.batch_id::text, p.party_id, p.name, b.period, d.state,
			d.partner_note, d.decided_by, d.decided_at, d.decision_note, d.created_at
		FROM faulty_disputes d JOIN faulty_items i ON i.id = d.item_id JOIN faulty_batches b ON b.id = d.batch_id
		JOIN partners p ON p.id = b.partner_id
		WHERE ($1 = '' OR d.batch_id::text = $1) AND ($2 = '' OR d.state = $2) AND ($3 = 0 OR d.id = $3)
		ORDER BY d.created_at DESC, d.id DESC LIMIT 500`, f.BatchID, f.State, f.ID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanDispute)
}

// DecideDispute accepts or rejects an open dispute (locked first, so two
// decisions cannot both win) and returns it as it was.
func DecideDispute(ctx context.Context, tx pgx.Tx, id int64, state, note, actor string, at time.Time) (Dispute, error) {
	var d Dispute
	err := tx.QueryRow(ctx, `SELECT d.id, d.item_id, d.batch_id::text, d.state, d.partner_note FROM faulty_disputes d WHERE d.id = $1 FOR UPDATE`,
		id).Scan(&d.ID, &d.ItemID, &d.BatchID, &d.State, &d.PartnerNote)
	if err != nil {
		return d, notFound(err, "The dispute")
	}
	if d.State != "open" {
		return d, apperror.New(apperror.Conflict, "This dispute was already %s; reload the page.", d.State)
	}
	_, err = tx.Exec(ctx, `UPDATE faulty_disputes SET state = $2, decided_by = $3, decided_at = $4, decision_note = $5 WHERE id = $1`,
		id, state, actor, at, note)
	if err != nil {
		return d, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO faulty_item_events (item_id, at, from_state, to_state, how, note, actor)
		SELECT id, $2, state, state, 'dispute_' || $3, $4, $5 FROM faulty_items WHERE id = $1`, d.ItemID, at, state, note, actor)
	return d, err
}

// TakeRejectionNotes returns the notes of the batch's rejected disputes not
// yet mailed and marks them as carried by emailID.
func TakeRejectionNotes(ctx context.Context, tx pgx.Tx, batchID string, emailID int64) ([]string, error) {
	rows, err := tx.Query(ctx, `UPDATE faulty_disputes d SET mailed_email_id = $2
		FROM faulty_items i WHERE i.id = d.item_id AND d.batch_id = $1::uuid AND d.state = 'rejected' AND d.mailed_email_id IS NULL
		RETURNING i.auth_ref || ': ' || d.decision_note`, batchID, emailID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// PendingRejectionNotes returns the notes of rejected disputes the next email will carry.
func PendingRejectionNotes(ctx context.Context, db DBTX, batchID string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT i.auth_ref || ': ' || d.decision_note FROM faulty_disputes d JOIN faulty_items i ON i.id = d.item_id
		WHERE d.batch_id = $1::uuid AND d.state = 'rejected' AND d.mailed_email_id IS NULL ORDER BY d.id`, batchID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LatestResponse is the newest partner response of an item.
type LatestResponse struct {
	ItemID   int64
	AuthRef  string
	Response string
	Note     string
	Recheck  bool
	At       time.Time
	Disputed string // the open or last dispute's state, "" when none
}

// LatestResponses returns the newest response of each item of a batch that has one.
func LatestResponses(ctx context.Context, db DBTX, batchID string) ([]LatestResponse, error) {
	if !IsUUID(batchID) {
		return nil, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	rows, err := db.Query(ctx, `SELECT DISTINCT ON (r.item_id) r.item_id, i.auth_ref, r.response, r.note, r.recheck, r.at,
			coalesce((SELECT d.state FROM faulty_disputes d WHERE d.item_id = r.item_id ORDER BY d.id DESC LIMIT 1), '')
		FROM faulty_item_responses r JOIN faulty_items i ON i.id = r.item_id
		WHERE r.batch_id = $1::uuid ORDER BY r.item_id, r.at DESC, r.id DESC`, batchID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LatestResponse, error) {
		var l LatestResponse
		err := r.Scan(&l.ItemID, &l.AuthRef, &l.Response, &l.Note, &l.Recheck, &l.At, &l.Disputed)
		return l, err
	})
}

// fillInboxFacts adds what partners' replies mean for the ladder to the
// batches' facts: when a partner last responded, until when that pauses the
// ladder, and how many open items are disputed (out of the ladder).
func fillInboxFacts(ctx context.Context, db DBTX, batches []LadderBatch, ids []string, index map[string]int) error {
	rows, err := db.Query(ctx, `SELECT b.id::text,
			(SELECT max(m.received_at) FROM inbound_messages m WHERE m.batch_id = b.id AND m.kind = 'human'),
			(SELECT max(m.pauses_until) FROM inbound_messages m WHERE m.batch_id = b.id AND m.kind = 'human'),
			(SELECT count(*) FROM faulty_disputes d JOIN faulty_items i ON i.id = d.item_id
				WHERE d.batch_id = b.id AND d.state = 'open' AND i.state = 'open')
		FROM faulty_batches b WHERE b.id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	var id string
	var responded, paused *time.Time
	var disputed int64
	_, err = pgx.ForEachRow(rows, []any{&id, &responded, &paused, &disputed}, func() error {
		f := &batches[index[id]].Facts
		if responded != nil {
			f.RespondedAt = *responded
		}
		if paused != nil {
			f.PausedUntil = *paused
		}
		f.Disputed = int(disputed)
		return nil
	})
	return err
}

// MarkFailingRecipients fills each partner's Failing addresses.
func MarkFailingRecipients(ctx context.Context, db DBTX, ps []Partner) error {
	fs, err := RecipientFailures(ctx, db, 0)
	if err != nil {
		return err
	}
	for _, f := range fs {
		for i := range ps {
			if ps[i].ID == f.PartnerID {
				ps[i].Failing = append(ps[i].Failing, f.Address)
			}
		}
	}
	return nil
}

// BatchPartnerAddrs returns every address (to, cc, escalation) of a batch's partner.
func BatchPartnerAddrs(ctx context.Context, db DBTX, batchID string) ([]string, error) {
	var addrs []string
	err := db.QueryRow(ctx, `SELECT p.to_addrs || p.cc_addrs || p.escalation_addrs FROM faulty_batches b
		JOIN partners p ON p.id = b.partner_id WHERE b.id = $1::uuid`, batchID).Scan(&addrs)
	return addrs, notFound(err, "The batch")
}
