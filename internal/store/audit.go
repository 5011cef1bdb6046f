package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEvent records one state change: who did what to which subject.
type AuditEvent struct {
	ID          int64
	At          time.Time
	Actor       string // "user:<id>" or "system:<job kind>"
	ActorLabel  string // the user's email for user actors, filled on read
	Action      string
	SubjectType string
	SubjectID   string
	Before      json.RawMessage
	After       json.RawMessage
	Reason      string
	// SubjectLabel and SubjectURL name the subject for people (LabelAudit);
	// empty when not looked up or unknown.
	SubjectLabel string
	SubjectURL   string
}

// UserActor names a user as an audit actor.
func UserActor(id int64) string { return fmt.Sprintf("user:%d", id) }

// SystemActor names a job kind as an audit actor.
func SystemActor(kind string) string { return "system:" + kind }

// Audit appends an audit event; before and after are marshalled to JSON.
func Audit(ctx context.Context, db DBTX, actor, action, subjectType, subjectID string, before, after any, reason string) error {
	b, err := jsonOrNull(before)
	if err != nil {
		return err
	}
	a, err := jsonOrNull(after)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO audit_events (actor, action, subject_type, subject_id, before, after, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, actor, action, subjectType, subjectID, b, a, reason)
	return err
}

func jsonOrNull(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

// AuditFilter narrows ListAudit; empty fields match everything.
type AuditFilter struct {
	Actor       string
	Action      string
	SubjectType string
	SubjectID   string
	From, To    time.Time
	BeforeID    int64 // keyset: events with a smaller id
	Limit       int
}

// ListAudit returns events matching f, newest first.
func ListAudit(ctx context.Context, db DBTX, f AuditFilter) ([]AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("(e.actor = $%[1]d OR u.email = lower($%[1]d))", f.Actor)
	}
	if f.Action != "" {
		add("e.action = $%d", f.Action)
	}
	if f.SubjectType != "" {
		add("e.subject_type = $%d", f.SubjectType)
	}
	if f.SubjectID != "" {
		add("e.subject_id = $%d", f.SubjectID)
	}
	if !f.From.IsZero() {
		add("e.at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("e.at < $%d", f.To)
	}
	if f.BeforeID > 0 {
		add("e.id < $%d", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT e.id, e.at, e.actor, coalesce(u.email, e.actor), e.action, e.subject_type, e.subject_id,
			e.before, e.after, e.reason
		FROM audit_events e
		LEFT JOIN users u ON e.actor LIKE 'user:%' AND u.id::text = substr(e.actor, 6)`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY e.id DESC LIMIT %d", f.Limit)
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEvent, error) {
		var e AuditEvent
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.ActorLabel, &e.Action, &e.SubjectType, &e.SubjectID, &e.Before, &e.After, &e.Reason)
		return e, err
	})
}
