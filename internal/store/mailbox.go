package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// MailboxMessage is one message received by the embedded SMTP sink.
type MailboxMessage struct {
	ID         int64
	ReceivedAt time.Time
	From       string
	To         []string
	MessageID  string
	Subject    string
	Raw        []byte
}

// InsertMailboxMessage stores a message received by the SMTP sink.
func InsertMailboxMessage(ctx context.Context, db DBTX, m MailboxMessage) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO mailbox_messages (mail_from, rcpt_to, message_id, subject, raw)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, m.From, m.To, m.MessageID, m.Subject, m.Raw).Scan(&id)
	return id, err
}

// ListMailbox returns the newest messages without their bodies.
func ListMailbox(ctx context.Context, db DBTX, limit int) ([]MailboxMessage, error) {
	rows, err := db.Query(ctx, `SELECT id, received_at, mail_from, rcpt_to, message_id, subject
		FROM mailbox_messages ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MailboxMessage, error) {
		var m MailboxMessage
		err := r.Scan(&m.ID, &m.ReceivedAt, &m.From, &m.To, &m.MessageID, &m.Subject)
		return m, err
	})
}

// MailboxMessageByID returns one message with its raw bytes.
func MailboxMessageByID(ctx context.Context, db DBTX, id int64) (MailboxMessage, error) {
	var m MailboxMessage
	err := db.QueryRow(ctx, `SELECT id, received_at, mail_from, rcpt_to, message_id, subject, raw
		FROM mailbox_messages WHERE id = $1`, id).Scan(&m.ID, &m.ReceivedAt, &m.From, &m.To, &m.MessageID, &m.Subject, &m.Raw)
	return m, notFound(err, "The message")
}

// MailboxByMessageIDs returns the stored messages whose Message-ID is in ids.
func MailboxByMessageIDs(ctx context.Context, db DBTX, ids []string) ([]MailboxMessage, error) {
	rows, err := db.Query(ctx, `SELECT id, received_at, mail_from, rcpt_to, message_id, subject
		FROM mailbox_messages WHERE message_id = ANY($1) ORDER BY received_at, id`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MailboxMessage, error) {
		var m MailboxMessage
		err := r.Scan(&m.ID, &m.ReceivedAt, &m.From, &m.To, &m.MessageID, &m.Subject)
		return m, err
	})
}

// MailboxThread returns the stored messages whose Message-ID is in ids or
// whose raw headers reference messageID, oldest first.
func MailboxThread(ctx context.Context, db DBTX, ids []string, messageID string) ([]MailboxMessage, error) {
	rows, err := db.Query(ctx, `SELECT id, received_at, mail_from, rcpt_to, message_id, subject
		FROM mailbox_messages
		WHERE message_id = ANY($1)
		   OR ($2 <> '' AND position(convert_to($2, 'UTF8') IN raw) > 0)
		ORDER BY received_at, id`, ids, messageID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MailboxMessage, error) {
		var m MailboxMessage
		err := r.Scan(&m.ID, &m.ReceivedAt, &m.From, &m.To, &m.MessageID, &m.Subject)
		return m, err
	})
}
