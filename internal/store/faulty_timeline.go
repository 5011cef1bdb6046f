package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
)

// LadderBatch is one batch as the escalation ladder sees it: the partner's
// addresses and the facts the pure timeline needs.
type LadderBatch struct {
	ID            string
	Period        faulty.Period
	PartnerID     int64
	PartyID       string
	PartnerName   string
	PartnerActive bool
	To, Cc        []string
	Escalation    []string
	CreatedAt     time.Time
	// TrackedAt is when the batch's master file was first made (nil before).
	TrackedAt  *time.Time
	ResolvedAt *time.Time
	Facts      faulty.BatchFacts
	// Emails are the batch's outbox rows, oldest (lowest seq) first.
	Emails []LadderEmail
}

// LadderEmail is the part of an outbox row the ladder decides on.
type LadderEmail struct {
	ID        int64
	Seq       int
	StepKey   string
	Level     faulty.Level
	State     string
	PlannedAt time.Time
	SentAt    *time.Time
}

// LadderFilter narrows LoadLadderBatches; the zero value loads every batch.
type LadderFilter struct {
	// IDs limits the batches to these ids.
	IDs []string
	// Period limits the batches to one period (YYYY-MM).
	Period string
	// PartnerID limits the batches to one partner.
	PartnerID int64
	// Active keeps only batches of active partners that still have work: open
	// items, or resolved items and a thread without a closing message last.
	Active bool
}

// IsBatchID reports whether s looks like a batch id (a UUID), so handlers
// can answer 404 before asking the database.
func IsBatchID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// LoadLadderBatches returns the batches matching f with their facts, in two
// set-based queries (batches with item counts, then their emails).
func LoadLadderBatches(ctx context.Context, db DBTX, f LadderFilter) ([]LadderBatch, error) {
	for _, id := range f.IDs {
		if !IsBatchID(id) {
			return nil, apperror.New(apperror.NotFound, "Batch %q was not found: a batch id is a UUID.", id)
		}
	}
	var where []string
	var args []any
	if f.IDs != nil {
		args = append(args, f.IDs)
		where = append(where, fmt.Sprintf("b.id = ANY($%d::uuid[])", len(args)))
	}
	if f.Period != "" {
		args = append(args, f.Period)
		where = append(where, fmt.Sprintf("b.period = $%d", len(args)))
	}
	if f.PartnerID != 0 {
		args = append(args, f.PartnerID)
		where = append(where, fmt.Sprintf("b.partner_id = $%d", len(args)))
	}
	if f.Active {
		where = append(where, `p.active AND (coalesce(c.open, 0) > 0 OR (coalesce(c.resolved, 0) > 0 AND EXISTS (
			SELECT 1 FROM faulty_emails e WHERE e.batch_id = b.id) AND (
			SELECT e.level FROM faulty_emails e WHERE e.batch_id = b.id ORDER BY e.seq DESC LIMIT 1) <> 'closing'))`)
	}
	q := `SELECT b.id::text, b.period, p.id, p.party_id, p.name, p.active, p.to_addrs, p.cc_addrs, p.escalation_addrs,
			b.created_at, b.tracked_at, b.resolved_at, fp.ingested_at, fp.validated_at, coalesce(b.tracked_at, fp.tracked_at),
			coalesce(c.open, 0), coalesce(c.resolved, 0), c.last_resolved
		FROM faulty_batches b
		JOIN partners p ON p.id = b.partner_id
		JOIN faulty_periods fp ON fp.period = b.period
		LEFT JOIN LATERAL (
			SELECT count(*) FILTER (WHERE i.state = 'open') AS open,
				count(*) FILTER (WHERE i.state = 'resolved') AS resolved,
				max(i.resolved_at) AS last_resolved
			FROM faulty_items i WHERE i.batch_id = b.id) c ON true`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY b.period DESC, p.name, b.id"
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	batches, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LadderBatch, error) {
		var b LadderBatch
		var period string
		var ingested, validated, tracked, lastResolved *time.Time
		var open, resolved int64
		err := r.Scan(&b.ID, &period, &b.PartnerID, &b.PartyID, &b.PartnerName, &b.PartnerActive, &b.To, &b.Cc, &b.Escalation,
			&b.CreatedAt, &b.TrackedAt, &b.ResolvedAt, &ingested, &validated, &tracked, &open, &resolved, &lastResolved)
		if err != nil {
			return b, err
		}
		if b.Period, err = faulty.ParsePeriod(period); err != nil {
			return b, err
		}
		b.Facts.Period = b.Period
		b.Facts.Completed = map[faulty.Phase]time.Time{}
		for ph, t := range map[faulty.Phase]*time.Time{faulty.PhaseIngestion: ingested, faulty.PhaseValidation: validated, faulty.PhaseTracking: tracked} {
			if t != nil {
				b.Facts.Completed[ph] = *t
			}
		}
		b.Facts.Open, b.Facts.Resolved = int(open), int(resolved)
		if lastResolved != nil {
			b.Facts.LastResolved = *lastResolved
		}
		return b, nil
	})
	if err != nil || len(batches) == 0 {
		return batches, err
	}
	ids := make([]string, len(batches))
	index := make(map[string]int, len(batches))
	for i, b := range batches {
		ids[i] = b.ID
		index[b.ID] = i
	}
	rows, err = db.Query(ctx, `SELECT batch_id::text, id, seq, step_key, level, state, planned_at, sent_at
		FROM faulty_emails WHERE batch_id = ANY($1::uuid[]) ORDER BY batch_id, seq`, ids)
	if err != nil {
		return nil, err
	}
	var batchID string
	var e LadderEmail
	_, err = pgx.ForEachRow(rows, []any{&batchID, &e.ID, &e.Seq, &e.StepKey, &e.Level, &e.State, &e.PlannedAt, &e.SentAt}, func() error {
		b := &batches[index[batchID]]
		b.Emails = append(b.Emails, e)
		b.Facts.Emails = append(b.Facts.Emails, e.fact())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return batches, fillInboxFacts(ctx, db, batches, ids, index)
}

// fact is the email as the pure timeline sees it: decided emails count, at
// the time they were sent or, until then, planned.
func (e LadderEmail) fact() faulty.Email {
	at := e.PlannedAt
	if e.SentAt != nil {
		at = *e.SentAt
	}
	return faulty.Email{Level: e.Level, At: at}
}

// LoadLadderBatch returns one batch with its facts.
func LoadLadderBatch(ctx context.Context, db DBTX, id string) (LadderBatch, error) {
	bs, err := LoadLadderBatches(ctx, db, LadderFilter{IDs: []string{id}})
	if err != nil {
		return LadderBatch{}, err
	}
	if len(bs) == 0 {
		return LadderBatch{}, apperror.New(apperror.NotFound, "Batch %s was not found.", id)
	}
	return bs[0], nil
}

// LockLadderBatch locks a batch row for the rest of tx, serialising every
// decision about its thread (ladder steps, re-escalations, resolutions).
func LockLadderBatch(ctx context.Context, tx pgx.Tx, id string) error {
	if !IsBatchID(id) {
		return apperror.New(apperror.NotFound, "Batch %q was not found: a batch id is a UUID.", id)
	}
	var got string
	err := tx.QueryRow(ctx, `SELECT id::text FROM faulty_batches WHERE id = $1 FOR UPDATE`, id).Scan(&got)
	return notFound(err, "The batch")
}

// LadderItem is one booking of a batch, with the report fields the pages
// and emails show.
type LadderItem struct {
	ID           int64
	AuthRef      string
	State        string
	Resolution   string
	ResolvedAt   *time.Time
	ResolvedBy   string
	Note         string
	Reopened     int
	StationID    string
	StationName  string
	City         string
	ConnectorID  string
	CDRID        string
	Start        *time.Time
	End          *time.Time
	Energy       *faulty.Energy
	FaultReasons []string
}

// LadderItemFilter narrows LadderItems.
type LadderItemFilter struct {
	State  string // "open", "resolved" or "" for both
	Reason string // a fault reason the item must carry
	Search string // part of the reference, station id or station name
	Limit  int    // default 500
	// Dispute narrows by open dispute: DisputeNone, DisputeOpen or "" for both.
	Dispute string
	// After and Before are keyset cursors (item ids): the items that sort
	// after (or before) that item in the table's order. Zero for none.
	After  int64
	Before int64
}

// The values of LadderItemFilter.Dispute.
const (
	// DisputeNone keeps the items no open dispute takes out of the ladder.
	DisputeNone = "none"
	// DisputeOpen keeps the items the partner disputes while finance has not decided.
	DisputeOpen = "open"
)

// ladderItemKey is the items table's sort key (open first, then by start,
// then by id) as a row value, so pages can be keyset-paged on it.
const ladderItemKey = `(i.state <> 'open', coalesce(r.start_at, 'infinity'::timestamptz), i.id)`

// ladderItemWhere is the WHERE clause of a batch's items narrowed by f's
// state, reason and search ($1 is the batch id), and its arguments.
func ladderItemWhere(batchID string, f LadderItemFilter) (string, []any) {
	args := []any{batchID}
	where := []string{"i.batch_id = $1"}
	if f.State != "" {
		args = append(args, f.State)
		where = append(where, fmt.Sprintf("i.state = $%d", len(args)))
	}
	if f.Reason != "" {
		args = append(args, f.Reason)
		where = append(where, fmt.Sprintf("$%d = ANY(r.fault_reasons)", len(args)))
	}
	switch f.Dispute {
	case DisputeNone:
		where = append(where, "NOT EXISTS (SELECT 1 FROM faulty_disputes d WHERE d.item_id = i.id AND d.state = 'open')")
	case DisputeOpen:
		where = append(where, "EXISTS (SELECT 1 FROM faulty_disputes d WHERE d.item_id = i.id AND d.state = 'open')")
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		args = append(args, "%"+escapeLike(strings.ToLower(s))+"%")
		n := len(args)
		where = append(where, fmt.Sprintf("(lower(i.auth_ref) LIKE $%[1]d OR lower(r.charger_station_id) LIKE $%[1]d OR lower(r.station_name) LIKE $%[1]d)", n))
	}
	return strings.Join(where, " AND "), args
}

// LadderItems returns a batch's items, open first then by start time; with
// After or Before set, the f.Limit items that follow (precede) that item.
func LadderItems(ctx context.Context, db DBTX, batchID string, f LadderItemFilter) ([]LadderItem, error) {
	where, args := ladderItemWhere(batchID, f)
	order := "ASC"
	cursor := func(id int64, op string) {
		args = append(args, id)
		where += fmt.Sprintf(` AND %s %s (SELECT i2.state <> 'open', coalesce(r2.start_at, 'infinity'::timestamptz), i2.id
			FROM faulty_items i2 JOIN faulty_report_rows r2 ON r2.id = i2.report_row_id WHERE i2.id = $%d AND i2.batch_id = $1)`, ladderItemKey, op, len(args))
	}
	switch {
	case f.After > 0:
		cursor(f.After, ">")
	case f.Before > 0:
		cursor(f.Before, "<")
		order = "DESC"
	}
	if f.Limit <= 0 {
		f.Limit = 500
	}
	q := `SELECT i.id, i.auth_ref, i.state, coalesce(i.resolution, ''), i.resolved_at, coalesce(i.resolved_by, ''), i.note, i.reopened,
			r.charger_station_id, r.station_name, r.city, r.connector_id, r.cdr_id, r.start_at, r.end_at, r.energy_wh, r.fault_reasons
		FROM faulty_items i JOIN faulty_report_rows r ON r.id = i.report_row_id
		WHERE ` + where + fmt.Sprintf(` ORDER BY i.state <> 'open' %[1]s, coalesce(r.start_at, 'infinity'::timestamptz) %[1]s, i.id %[1]s LIMIT %[2]d`, order, f.Limit)
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LadderItem, error) {
		var it LadderItem
		var wh *int64
		err := r.Scan(&it.ID, &it.AuthRef, &it.State, &it.Resolution, &it.ResolvedAt, &it.ResolvedBy, &it.Note, &it.Reopened,
			&it.StationID, &it.StationName, &it.City, &it.ConnectorID, &it.CDRID, &it.Start, &it.End, &wh, &it.FaultReasons)
		if wh != nil {
			e := faulty.Energy(*wh)
			it.Energy = &e
		}
		return it, err
	})
	if err != nil || order == "ASC" {
		return items, err
	}
	slices.Reverse(items)
	return items, nil
}

// LadderItemPage is one keyset page of a batch's items.
type LadderItemPage struct {
	Items []LadderItem
	// HasPrev and HasNext say whether items come before the first and after the last.
	HasPrev, HasNext bool
	// Matching and MatchingOpen count every item (every open item) matching the filter.
	Matching, MatchingOpen int
}

// LadderItemsPage returns one page of at most size items (f.After / f.Before
// as the cursor) with the counts of everything matching f.
func LadderItemsPage(ctx context.Context, db DBTX, batchID string, f LadderItemFilter, size int) (LadderItemPage, error) {
	var p LadderItemPage
	f.Limit = size + 1
	items, err := LadderItems(ctx, db, batchID, f)
	if err != nil {
		return p, err
	}
	more := len(items) > size
	switch {
	case f.Before > 0:
		if more {
			items = items[1:]
		}
		p.HasPrev, p.HasNext = more, true
	default:
		if more {
			items = items[:size]
		}
		p.HasPrev, p.HasNext = f.After > 0, more
	}
	p.Items = items
	where, args := ladderItemWhere(batchID, f)
	err = db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE i.state = 'open')
		FROM faulty_items i JOIN faulty_report_rows r ON r.id = i.report_row_id WHERE `+where, args...).Scan(&p.Matching, &p.MatchingOpen)
	return p, err
}

// ResolveMatchingItems resolves, in tx, every open item of a batch that
// matches f's state, reason and search (cursors and limit are ignored),
// with one event per item; it returns how many it resolved.
func ResolveMatchingItems(ctx context.Context, tx pgx.Tx, batchID string, f LadderItemFilter, how, note, actor string) (int, error) {
	f.After, f.Before, f.Limit = 0, 0, 0
	where, args := ladderItemWhere(batchID, f)
	rows, err := tx.Query(ctx, `SELECT i.id FROM faulty_items i JOIN faulty_report_rows r ON r.id = i.report_row_id
		WHERE i.state = 'open' AND `+where+` ORDER BY i.id`, args...)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ResolveItems(ctx, tx, batchID, ids, how, note, actor)
}

// LadderReasons lists the distinct fault reasons of a batch's items.
func LadderReasons(ctx context.Context, db DBTX, batchID string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT unnest(r.fault_reasons) AS reason
		FROM faulty_items i JOIN faulty_report_rows r ON r.id = i.report_row_id
		WHERE i.batch_id = $1 ORDER BY reason`, batchID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// NoteRequired is the error of an action whose note is empty: msg says what to write.
func NoteRequired(msg string) error {
	return &apperror.Error{Code: apperror.Invalid, Message: msg, Fields: map[string]string{"note": msg}}
}

// LadderMasterFile is one version of a batch's master file, without its bytes.
type LadderMasterFile struct {
	ID        int64
	Version   int
	SHA256    string
	Size      int
	Reason    string
	CreatedAt time.Time
}

// LadderMasterFiles lists a batch's master file versions, newest first.
func LadderMasterFiles(ctx context.Context, db DBTX, batchID string) ([]LadderMasterFile, error) {
	rows, err := db.Query(ctx, `SELECT id, version, sha256, octet_length(data), reason, created_at
		FROM master_files WHERE batch_id = $1 ORDER BY version DESC`, batchID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LadderMasterFile, error) {
		var m LadderMasterFile
		return m, r.Scan(&m.ID, &m.Version, &m.SHA256, &m.Size, &m.Reason, &m.CreatedAt)
	})
}

// LadderMasterFileData returns one version's bytes.
func LadderMasterFileData(ctx context.Context, db DBTX, batchID string, version int) (LadderMasterFile, []byte, error) {
	var m LadderMasterFile
	var data []byte
	err := db.QueryRow(ctx, `SELECT id, version, sha256, octet_length(data), reason, created_at, data
		FROM master_files WHERE batch_id = $1 AND version = $2`, batchID, version).
		Scan(&m.ID, &m.Version, &m.SHA256, &m.Size, &m.Reason, &m.CreatedAt, &data)
	return m, data, notFound(err, fmt.Sprintf("Version %d of the master file", version))
}

// LatestLadderMasterFile returns the newest master file version of a batch;
// ok is false when the batch has none yet.
func LatestLadderMasterFile(ctx context.Context, db DBTX, batchID string) (m LadderMasterFile, ok bool, err error) {
	err = db.QueryRow(ctx, `SELECT id, version, sha256, octet_length(data), reason, created_at
		FROM master_files WHERE batch_id = $1 ORDER BY version DESC LIMIT 1`, batchID).
		Scan(&m.ID, &m.Version, &m.SHA256, &m.Size, &m.Reason, &m.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false, nil
	}
	return m, err == nil, err
}
