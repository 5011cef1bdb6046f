package store

import (
	"context"
	"time"
)

// SubjectName is what people read for an audited or referenced thing: a
// label and the page that shows it ("" when there is none).
type SubjectName struct {
	Label string
	URL   string
}

// SubjectKey keys SubjectNames: "type:id".
func SubjectKey(typ, id string) string { return typ + ":" + id }

// SubjectNames looks up, in one query over at most the given keys, the
// readable names of users, drivers, partners, faulty batches, E-ZPass
// tolls and imports ("type:id" keys, e.g. "faulty_batch:<uuid>"); keys it
// does not know are left out. Times are labelled in tz.
func SubjectNames(ctx context.Context, db DBTX, keys []string, tz *time.Location) (map[string]SubjectName, error) {
	out := map[string]SubjectName{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `
		WITH r AS (SELECT DISTINCT split_part(key, ':', 1) AS typ, substr(key, strpos(key, ':') + 1) AS id FROM unnest($1::text[]) key),
		k AS MATERIALIZED (SELECT typ, id,
			CASE WHEN id ~ '^[0-9]{1,18}$' THEN id::bigint END AS n,
			CASE WHEN id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN id::uuid END AS u FROM r)
		SELECT 'user:' || u.id, u.email, '/admin/users/' || u.id, NULL::timestamptz FROM users u JOIN k ON k.typ = 'user' AND u.id = k.n
		UNION ALL
		SELECT 'driver:' || d.id, d.name, '/ledger/drivers/' || d.id, NULL FROM drivers d JOIN k ON k.typ = 'driver' AND d.id = k.n
		UNION ALL
		SELECT 'partner:' || p.id, p.name, '/admin/partners/' || p.id, NULL FROM partners p JOIN k ON k.typ = 'partner' AND p.id = k.n
		UNION ALL
		SELECT 'faulty_batch:' || b.id, p.name || ' · ' || b.period, '/faulty/batches/' || b.id, NULL
		FROM faulty_batches b JOIN partners p ON p.id = b.partner_id
		JOIN k ON k.typ = 'faulty_batch' AND b.id = k.u
		UNION ALL
		SELECT 'faulty_period:' || k.id, 'Period ' || k.id, '/faulty/periods/' || k.id, NULL FROM k WHERE k.typ = 'faulty_period' AND k.id ~ '^[0-9]{4}-[0-9]{2}$'
		UNION ALL
		SELECT 'ezpass_transaction:' || t.id, concat_ws(' · ', t.tag_or_plate, t.agency), '/ezpass/transactions/' || t.id, t.txn_at
		FROM ezpass_transactions t JOIN k ON k.typ IN ('ezpass_transaction', 'EZPASS') AND t.id = k.n
		UNION ALL
		SELECT 'ezpass_import:' || i.id, i.file_name, '/ezpass/imports/' || i.id, i.created_at
		FROM ezpass_imports i JOIN k ON k.typ = 'ezpass_import' AND i.id = k.n`, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var key, label, url string
		var at *time.Time
		if err := rows.Scan(&key, &label, &url, &at); err != nil {
			return nil, err
		}
		if at != nil {
			label += " · " + at.In(tz).Format("Jan 2, 2006 3:04 PM MST")
		}
		out[key] = SubjectName{Label: label, URL: url}
	}
	return out, rows.Err()
}

// LabelAudit fills SubjectLabel and SubjectURL of events from one
// SubjectNames lookup (the rows shown, never more).
func LabelAudit(ctx context.Context, db DBTX, events []AuditEvent, tz *time.Location) error {
	keys := make([]string, 0, len(events))
	for _, e := range events {
		keys = append(keys, SubjectKey(e.SubjectType, e.SubjectID))
	}
	names, err := SubjectNames(ctx, db, keys, tz)
	if err != nil {
		return err
	}
	for i := range events {
		if n, ok := names[SubjectKey(events[i].SubjectType, events[i].SubjectID)]; ok {
			events[i].SubjectLabel, events[i].SubjectURL = n.Label, n.URL
		}
	}
	return nil
}
