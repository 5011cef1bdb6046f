package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
)

// Item states and resolutions (faulty_items), as the columns hold them; the typed values are
// faulty.ItemState and faulty.Resolution.
const (
	ItemOpen     = string(faulty.ItemOpen)
	ItemResolved = string(faulty.ItemResolved)

	ResolvedDisappeared    = string(faulty.ResolvedDisappeared)
	ResolvedNoLongerFaulty = string(faulty.ResolvedNoLongerFaulty)
	ResolvedManual         = string(faulty.ResolvedManual)
)

// FaultyBatch is one partner's faulty bookings of one period.
type FaultyBatch struct {
	ID          string     `json:"id"`
	PartnerID   int64      `json:"partner_id"`
	PartyID     string     `json:"party_id"`
	PartnerName string     `json:"partner_name"`
	Period      string     `json:"period"`
	CreatedAt   time.Time  `json:"created_at"`
	TrackedAt   *time.Time `json:"tracked_at"`
	ResolvedAt  *time.Time `json:"resolved_at"`
	Open        int        `json:"open"`
	Resolved    int        `json:"resolved"`
}

// IsUUID reports whether s is a canonical (8-4-4-4-12 hex) uuid.
func IsUUID(s string) bool {
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
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// BatchByID finds a batch with its partner and item counts; a malformed id is NotFound. It is
// a summary of the one batch read model, LoadLadderBatch.
func BatchByID(ctx context.Context, db DBTX, id string) (FaultyBatch, error) {
	if !IsUUID(id) {
		return FaultyBatch{}, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	b, err := LoadLadderBatch(ctx, db, id)
	return b.Summary(), err
}

// BatchFilter narrows ListBatches; zero fields match everything.
type BatchFilter struct {
	Period    string
	PartnerID int64
}

// ListBatches returns batch summaries (LoadLadderBatches), newest period first, then by
// partner name.
func ListBatches(ctx context.Context, db DBTX, f BatchFilter) ([]FaultyBatch, error) {
	bs, err := LoadLadderBatches(ctx, db, LadderFilter{Period: f.Period, PartnerID: f.PartnerID})
	if err != nil {
		return nil, err
	}
	out := make([]FaultyBatch, len(bs))
	for i, b := range bs {
		out[i] = b.Summary()
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Period != out[j].Period {
			return out[i].Period > out[j].Period
		}
		return strings.ToLower(out[i].PartnerName) < strings.ToLower(out[j].PartnerName)
	})
	return out, nil
}

// Summary is the batch as lists show it: partner, period, dates and item counts.
func (b LadderBatch) Summary() FaultyBatch {
	return FaultyBatch{ID: b.ID, PartnerID: b.PartnerID, PartyID: b.PartyID, PartnerName: b.PartnerName, Period: b.Period.String(),
		CreatedAt: b.CreatedAt, TrackedAt: b.TrackedAt, ResolvedAt: b.ResolvedAt, Open: b.Facts.Open, Resolved: b.Facts.Resolved}
}

// ItemCounts counts a batch's items by state.
type ItemCounts struct {
	Open     int `json:"open"`
	Resolved int `json:"resolved"`
}

// OpenItemCounts returns the item counts of the given batches (every batch when ids is empty).
func OpenItemCounts(ctx context.Context, db DBTX, batchIDs []string) (map[string]ItemCounts, error) {
	rows, err := db.Query(ctx, `SELECT batch_id::text, count(*) FILTER (WHERE state = 'open'), count(*) FILTER (WHERE state = 'resolved')
		FROM faulty_items WHERE cardinality($1::text[]) = 0 OR batch_id::text = ANY($1) GROUP BY batch_id`, nonNil(batchIDs))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ItemCounts{}
	for rows.Next() {
		var id string
		var c ItemCounts
		if err := rows.Scan(&id, &c.Open, &c.Resolved); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}

// FaultyItem is one confirmed faulty booking of a batch, with its report row's details.
type FaultyItem struct {
	ID            int64      `json:"id"`
	BatchID       string     `json:"batch_id"`
	ReportRowID   int64      `json:"-"`
	AuthRef       string     `json:"authorization_reference"`
	State         string     `json:"state"`
	Resolution    string     `json:"resolution,omitempty"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy    string     `json:"resolved_by,omitempty"`
	Note          string     `json:"note,omitempty"`
	Reopened      int        `json:"reopened"`
	CreatedAt     time.Time  `json:"created_at"`
	CDRID         string     `json:"cdr_id"`
	OCPISessionID string     `json:"ocpi_session_id"`
	StationID     string     `json:"station_id"`
	StationName   string     `json:"station_name"`
	City          string     `json:"city"`
	Connector     string     `json:"connector"`
	StartAt       *time.Time `json:"start_at"`
	EndAt         *time.Time `json:"end_at"`
	// EnergyWh is the reported energy in watt-hours.
	EnergyWh     int64    `json:"energy_wh"`
	FaultReasons []string `json:"fault_reasons"`
	// InLatestReport is false once the booking is no longer in the period's report.
	InLatestReport bool `json:"in_latest_report"`
}

// ItemFilter narrows ListBatchItems.
type ItemFilter struct {
	BatchID string
	// State is "open", "resolved" or "" for both.
	State string
	// FaultReason keeps items whose MongoDB fault reasons include it.
	FaultReason string
	// Search matches the start of the reference, CDR ID or session id, or part of the station name.
	Search string
	// Limit defaults to 500 (at most 100000); Offset skips items.
	Limit, Offset int
}

const itemCols = `i.id, i.batch_id::text, i.report_row_id, i.auth_ref, i.state, coalesce(i.resolution, ''), i.resolved_at,
	coalesce(i.resolved_by, ''), i.note, i.reopened, i.created_at, r.cdr_id, r.ocpi_session_id, r.charger_station_id,
	r.station_name, r.city, r.connector_id, r.start_at, r.end_at, coalesce(r.energy_wh, 0), r.fault_reasons, r.in_latest_report`

func scanItem(row pgx.Row) (FaultyItem, error) {
	var x FaultyItem
	err := row.Scan(&x.ID, &x.BatchID, &x.ReportRowID, &x.AuthRef, &x.State, &x.Resolution, &x.ResolvedAt, &x.ResolvedBy,
		&x.Note, &x.Reopened, &x.CreatedAt, &x.CDRID, &x.OCPISessionID, &x.StationID, &x.StationName, &x.City, &x.Connector,
		&x.StartAt, &x.EndAt, &x.EnergyWh, &x.FaultReasons, &x.InLatestReport)
	return x, err
}

// ListBatchItems returns a batch's items matching f, open first, then by start time.
func ListBatchItems(ctx context.Context, db DBTX, f ItemFilter) ([]FaultyItem, error) {
	if !IsUUID(f.BatchID) {
		return nil, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	if f.Limit <= 0 {
		f.Limit = 500
	}
	f.Limit = min(f.Limit, 100000)
	search := strings.TrimSpace(f.Search)
	rows, err := db.Query(ctx, `SELECT `+itemCols+`
		FROM faulty_items i JOIN faulty_report_rows r ON r.id = i.report_row_id
		WHERE i.batch_id = $1::uuid AND ($2 = '' OR i.state = $2) AND ($3 = '' OR $3 = ANY(r.fault_reasons))
			AND ($4 = '' OR i.auth_ref LIKE lower($4) || '%' OR r.cdr_id ILIKE $4 || '%' OR r.ocpi_session_id ILIKE $4 || '%'
				OR r.station_name ILIKE '%' || $4 || '%')
		ORDER BY i.state = 'resolved', r.start_at NULLS LAST, i.id
		LIMIT $5 OFFSET $6`, f.BatchID, f.State, f.FaultReason, likeEscape(search), f.Limit, max(f.Offset, 0))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FaultyItem, error) { return scanItem(r) })
}

// likeEscape escapes LIKE wildcards so a search is taken literally.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// ItemEvent is one state change of an item.
type ItemEvent struct {
	ID        int64     `json:"id"`
	ItemID    int64     `json:"item_id"`
	AuthRef   string    `json:"authorization_reference"`
	At        time.Time `json:"at"`
	FromState string    `json:"from_state"`
	ToState   string    `json:"to_state"`
	How       string    `json:"how"`
	Note      string    `json:"note"`
	Actor     string    `json:"actor"`
}

// ListItemEvents returns the history of a batch's items (or of one item when itemID > 0),
// newest first.
func ListItemEvents(ctx context.Context, db DBTX, batchID string, itemID int64, limit int) ([]ItemEvent, error) {
	if !IsUUID(batchID) {
		return nil, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	if limit <= 0 || limit > 10000 {
		limit = 200
	}
	rows, err := db.Query(ctx, `SELECT e.id, e.item_id, i.auth_ref, e.at, e.from_state, e.to_state, e.how, e.note, e.actor
		FROM faulty_item_events e JOIN faulty_items i ON i.id = e.item_id
		WHERE i.batch_id = $1::uuid AND ($2 = 0 OR e.item_id = $2)
		ORDER BY e.at DESC, e.id DESC LIMIT $3`, batchID, itemID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ItemEvent, error) {
		var x ItemEvent
		err := r.Scan(&x.ID, &x.ItemID, &x.AuthRef, &x.At, &x.FromState, &x.ToState, &x.How, &x.Note, &x.Actor)
		return x, err
	})
}

// BatchChange counts what one tracking run changed in a batch.
type BatchChange struct {
	New            bool `json:"new,omitempty"`
	Created        int  `json:"created"`
	Reopened       int  `json:"reopened"`
	Disappeared    int  `json:"disappeared"`
	NoLongerFaulty int  `json:"no_longer_faulty"`
}

// Changed reports whether the run changed the batch's items.
func (c BatchChange) Changed() bool {
	return c.New || c.Created+c.Reopened+c.Disappeared+c.NoLongerFaulty > 0
}

// TrackResult is what TrackPeriod did.
type TrackResult struct {
	Batches        int                     `json:"batches"`
	NewBatches     int                     `json:"new_batches"`
	Created        int                     `json:"items_created"`
	Reopened       int                     `json:"items_reopened"`
	Disappeared    int                     `json:"items_disappeared"`
	NoLongerFaulty int                     `json:"items_no_longer_faulty"`
	ByBatch        map[string]*BatchChange `json:"-"`
}

// ChangedBatches returns the ids of the batches whose items changed (new ones included).
func (t TrackResult) ChangedBatches() []string {
	var ids []string
	for id, c := range t.ByBatch {
		if c.Changed() {
			ids = append(ids, id)
		}
	}
	return ids
}

// TrackPeriod applies the item rules of §4.4 to a period in tx, each rule one set-based
// statement that also writes the item events:
//   - one batch per (partner, period) with at least one confirmed row in the latest report;
//   - one item per confirmed booking (unique per batch and reference), never duplicated;
//   - an open item whose booking left the latest report → resolved "disappeared";
//   - an open item whose booking is no longer confirmed (or moved to another partner) →
//     resolved "no_longer_faulty";
//   - an item resolved automatically whose booking is confirmed faulty again → reopened.
//
// Manual resolutions are never reopened automatically. The batches of the period are locked
// for the rest of tx, and every changed batch gets an audit event with its counts.
func TrackPeriod(ctx context.Context, tx pgx.Tx, period, actor string) (TrackResult, error) {
	res := TrackResult{ByBatch: map[string]*BatchChange{}}
	get := func(id string) *BatchChange {
		c := res.ByBatch[id]
		if c == nil {
			c = &BatchChange{}
			res.ByBatch[id] = c
		}
		return c
	}
	rows, err := tx.Query(ctx, `INSERT INTO faulty_batches (partner_id, period)
		SELECT DISTINCT partner_id, period FROM faulty_report_rows
		WHERE period = $1 AND in_latest_report AND confirmed AND partner_id IS NOT NULL
		ON CONFLICT (partner_id, period) DO NOTHING RETURNING id::text`, period)
	if err != nil {
		return res, err
	}
	newIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return res, err
	}
	for _, id := range newIDs {
		get(id).New = true
	}
	res.NewBatches = len(newIDs)
	rows, err = tx.Query(ctx, `SELECT id::text FROM faulty_batches WHERE period = $1 ORDER BY id FOR UPDATE`, period)
	if err != nil {
		return res, err
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return res, err
	}
	res.Batches = len(all)

	type step struct {
		sql string
		add func(c *BatchChange, n int)
	}
	steps := []step{
		{`WITH ch AS (
				INSERT INTO faulty_items (batch_id, report_row_id, auth_ref)
				SELECT b.id, r.id, r.auth_ref FROM faulty_report_rows r
				JOIN faulty_batches b ON b.partner_id = r.partner_id AND b.period = r.period
				WHERE r.period = $1 AND r.in_latest_report AND r.confirmed
				ON CONFLICT (batch_id, auth_ref) DO NOTHING RETURNING id, batch_id
			), ev AS (
				INSERT INTO faulty_item_events (item_id, from_state, to_state, how, actor)
				SELECT id, '', 'open', 'created', $2 FROM ch
			)
			SELECT batch_id::text, count(*) FROM ch GROUP BY batch_id`,
			func(c *BatchChange, n int) { c.Created += n; res.Created += n }},
		{`WITH ch AS (
				UPDATE faulty_items i SET state = 'resolved', resolution = 'disappeared', resolved_at = now(), resolved_by = $2
				FROM faulty_report_rows r, faulty_batches b
				WHERE r.id = i.report_row_id AND b.id = i.batch_id AND b.period = $1 AND i.state = 'open' AND NOT r.in_latest_report
				RETURNING i.id, i.batch_id
			), ev AS (
				INSERT INTO faulty_item_events (item_id, from_state, to_state, how, actor)
				SELECT id, 'open', 'resolved', 'disappeared', $2 FROM ch
			)
			SELECT batch_id::text, count(*) FROM ch GROUP BY batch_id`,
			func(c *BatchChange, n int) { c.Disappeared += n; res.Disappeared += n }},
		{`WITH ch AS (
				UPDATE faulty_items i SET state = 'resolved', resolution = 'no_longer_faulty', resolved_at = now(), resolved_by = $2
				FROM faulty_report_rows r, faulty_batches b
				WHERE r.id = i.report_row_id AND b.id = i.batch_id AND b.period = $1 AND i.state = 'open' AND r.in_latest_report
					AND (r.confirmed = false OR (r.confirmed AND r.partner_id IS DISTINCT FROM b.partner_id))
				RETURNING i.id, i.batch_id
			), ev AS (
				INSERT INTO faulty_item_events (item_id, from_state, to_state, how, actor)
				SELECT id, 'open', 'resolved', 'no_longer_faulty', $2 FROM ch
			)
			SELECT batch_id::text, count(*) FROM ch GROUP BY batch_id`,
			func(c *BatchChange, n int) { c.NoLongerFaulty += n; res.NoLongerFaulty += n }},
		{`WITH ch AS (
				UPDATE faulty_items i SET state = 'open', resolution = NULL, resolved_at = NULL, resolved_by = NULL,
					reopened = i.reopened + 1
				FROM faulty_report_rows r, faulty_batches b
				WHERE r.id = i.report_row_id AND b.id = i.batch_id AND b.period = $1 AND i.state = 'resolved'
					AND i.resolution IN ('disappeared', 'no_longer_faulty')
					AND r.in_latest_report AND r.confirmed AND r.partner_id = b.partner_id
				RETURNING i.id, i.batch_id
			), ev AS (
				INSERT INTO faulty_item_events (item_id, from_state, to_state, how, actor)
				SELECT id, 'resolved', 'open', 'reopened', $2 FROM ch
			)
			SELECT batch_id::text, count(*) FROM ch GROUP BY batch_id`,
			func(c *BatchChange, n int) { c.Reopened += n; res.Reopened += n }},
	}
	for _, s := range steps {
		rows, err := tx.Query(ctx, s.sql, period, actor)
		if err != nil {
			return res, err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return res, err
			}
			s.add(get(id), n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, err
		}
	}
	if err := syncBatchResolved(ctx, tx, period, ""); err != nil {
		return res, err
	}
	// Autovacuum is off: a bulk change refreshes the statistics the master files' queries plan with.
	if res.Created+res.Disappeared+res.NoLongerFaulty+res.Reopened >= analyzeThreshold {
		if _, err := tx.Exec(ctx, `ANALYZE faulty_items, faulty_item_events`); err != nil {
			return res, err
		}
	}
	for id, c := range res.ByBatch {
		if !c.Changed() {
			continue
		}
		if err := Audit(ctx, tx, actor, "faulty_batch.track", "faulty_batch", id, nil, c, ""); err != nil {
			return res, err
		}
	}
	return res, nil
}

// syncBatchResolved sets resolved_at on batches whose items are all resolved and clears it on
// batches with open items (one period, or one batch when batchID is set).
func syncBatchResolved(ctx context.Context, db DBTX, period, batchID string) error {
	_, err := db.Exec(ctx, `UPDATE faulty_batches b SET resolved_at = CASE
			WHEN EXISTS (SELECT 1 FROM faulty_items i WHERE i.batch_id = b.id AND i.state = 'open') THEN NULL
			WHEN EXISTS (SELECT 1 FROM faulty_items i WHERE i.batch_id = b.id) THEN coalesce(b.resolved_at, now())
		END
		WHERE ($1 = '' OR b.period = $1) AND ($2 = '' OR b.id::text = $2)`, period, batchID)
	return err
}

// MarkBatchesTracked sets tracked_at (first time only) on the given batches.
func MarkBatchesTracked(ctx context.Context, db DBTX, batchIDs []string) error {
	return MarkBatchesTrackedAt(ctx, db, batchIDs, time.Time{})
}

// MarkBatchesTrackedAt is MarkBatchesTracked at the application's clock (at; zero means the
// database's now()).
func MarkBatchesTrackedAt(ctx context.Context, db DBTX, batchIDs []string, at time.Time) error {
	_, err := db.Exec(ctx, `UPDATE faulty_batches SET tracked_at = coalesce(tracked_at, $2, now()) WHERE id::text = ANY($1)`, nonNil(batchIDs), nullTime(at))
	return err
}

// ResolveItems resolves open items of a batch in tx: the given ids, or every open item when
// itemIDs is empty. how is "manual", "disappeared" or "no_longer_faulty"; a manual resolution
// needs a note. Each item gets an event, the batch one audit event with the ids, and the batch's
// resolved_at is set when nothing is left open. It returns how many items it resolved.
func ResolveItems(ctx context.Context, tx pgx.Tx, batchID string, itemIDs []int64, how, note, actor string) (int, error) {
	switch how {
	case ResolvedManual, ResolvedDisappeared, ResolvedNoLongerFaulty:
	default:
		return 0, apperror.New(apperror.Invalid, "%q is not a way to resolve items: use manual, disappeared or no_longer_faulty.", how)
	}
	note = strings.TrimSpace(note)
	if how == ResolvedManual && note == "" {
		return 0, apperror.FieldErrors(map[string]string{"note": "Write a note saying why the bookings are resolved."})
	}
	if !IsUUID(batchID) {
		return 0, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	var open int
	if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM faulty_items WHERE batch_id = b.id AND state = 'open')
		FROM faulty_batches b WHERE b.id = $1::uuid FOR UPDATE`, batchID).Scan(&open); err != nil {
		return 0, notFound(err, "The batch")
	}
	if itemIDs == nil {
		itemIDs = []int64{}
	}
	rows, err := tx.Query(ctx, `WITH ch AS (
			UPDATE faulty_items SET state = 'resolved', resolution = $3, resolved_at = now(), resolved_by = $5, note = $4
			WHERE batch_id = $1::uuid AND state = 'open' AND (cardinality($2::bigint[]) = 0 OR id = ANY($2))
			RETURNING id
		), ev AS (
			INSERT INTO faulty_item_events (item_id, from_state, to_state, how, note, actor)
			SELECT id, 'open', 'resolved', $3, $4, $5 FROM ch
		)
		SELECT id FROM ch ORDER BY id`, batchID, itemIDs, how, note, actor)
	if err != nil {
		return 0, err
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	if len(itemIDs) > 0 && len(done) != len(itemIDs) {
		return 0, apperror.New(apperror.Conflict, "%d of the %d selected bookings are not open in this batch any more; reload the page and try again.",
			len(itemIDs)-len(done), len(itemIDs))
	}
	if len(done) == 0 {
		return 0, nil
	}
	if err := syncBatchResolved(ctx, tx, "", batchID); err != nil {
		return 0, err
	}
	after := map[string]any{"resolved": len(done), "how": how, "open": open - len(done), "item_ids": done}
	if err := Audit(ctx, tx, actor, "faulty_batch.resolve_items", "faulty_batch", batchID,
		map[string]any{"open": open}, after, note); err != nil {
		return 0, err
	}
	return len(done), nil
}

// BatchIDsOfPeriod returns the ids of a period's batches.
func BatchIDsOfPeriod(ctx context.Context, db DBTX, period string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT id::text FROM faulty_batches WHERE period = $1 ORDER BY id`, period)
	if err != nil {
		return nil, fmt.Errorf("batches of %s: %w", period, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
