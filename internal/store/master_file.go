package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/masterfile"
)

// MasterFile is one immutable version of a batch's master file (its bytes are read apart).
type MasterFile struct {
	ID        int64     `json:"id"`
	BatchID   string    `json:"batch_id"`
	Version   int       `json:"version"`
	SHA256    string    `json:"sha256"`
	Size      int       `json:"size"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

const masterFileCols = `id, batch_id::text, version, sha256, length(data), reason, created_at`

func scanMasterFile(row pgx.Row) (MasterFile, error) {
	var m MasterFile
	err := row.Scan(&m.ID, &m.BatchID, &m.Version, &m.SHA256, &m.Size, &m.Reason, &m.CreatedAt)
	return m, err
}

// NewMasterFile is a version to insert.
type NewMasterFile struct {
	BatchID string
	Version int
	Data    []byte
	Reason  string
}

// InsertMasterFiles inserts master file versions in one statement, computing each SHA-256.
// A version that exists already is a Conflict (versions are immutable).
func InsertMasterFiles(ctx context.Context, db DBTX, files []NewMasterFile) ([]MasterFile, error) {
	if len(files) == 0 {
		return nil, nil
	}
	ids, versions, sums, data, reasons := make([]string, len(files)), make([]int32, len(files)), make([]string, len(files)),
		make([][]byte, len(files)), make([]string, len(files))
	for i, f := range files {
		ids[i], versions[i], sums[i], data[i], reasons[i] = f.BatchID, int32(f.Version), masterfile.SHA256(f.Data), f.Data, f.Reason
	}
	rows, err := db.Query(ctx, `INSERT INTO master_files (batch_id, version, sha256, data, reason)
		SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bytea[], $5::text[])
		RETURNING `+masterFileCols, ids, versions, sums, data, reasons)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MasterFile, error) { return scanMasterFile(r) })
	if IsUniqueViolation(err) {
		return nil, apperror.New(apperror.Conflict, "A master file version was written concurrently; try again.")
	}
	return out, err
}

// AddMasterFileVersion stores data as the batch's next master file version (locking the batch
// so versions never collide) and returns it.
func AddMasterFileVersion(ctx context.Context, db DBTX, batchID string, data []byte, reason string) (MasterFile, error) {
	if !IsUUID(batchID) {
		return MasterFile{}, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	var next int
	err := db.QueryRow(ctx, `SELECT coalesce((SELECT max(version) FROM master_files WHERE batch_id = b.id), 0) + 1
		FROM faulty_batches b WHERE b.id = $1::uuid FOR UPDATE`, batchID).Scan(&next)
	if err != nil {
		return MasterFile{}, notFound(err, "The batch")
	}
	out, err := InsertMasterFiles(ctx, db, []NewMasterFile{{BatchID: batchID, Version: next, Data: data, Reason: reason}})
	if err != nil {
		return MasterFile{}, err
	}
	return out[0], nil
}

// ListMasterFiles returns a batch's versions, newest first.
func ListMasterFiles(ctx context.Context, db DBTX, batchID string) ([]MasterFile, error) {
	if !IsUUID(batchID) {
		return nil, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	rows, err := db.Query(ctx, `SELECT `+masterFileCols+` FROM master_files WHERE batch_id = $1::uuid ORDER BY version DESC`, batchID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MasterFile, error) { return scanMasterFile(r) })
}

// LatestMasterFile returns a batch's newest version; NotFound when it has none.
func LatestMasterFile(ctx context.Context, db DBTX, batchID string) (MasterFile, error) {
	if !IsUUID(batchID) {
		return MasterFile{}, apperror.New(apperror.NotFound, "The batch was not found.")
	}
	m, err := scanMasterFile(db.QueryRow(ctx, `SELECT `+masterFileCols+` FROM master_files WHERE batch_id = $1::uuid
		ORDER BY version DESC LIMIT 1`, batchID))
	return m, notFound(err, "The batch's master file")
}

// MasterFileData returns one version with its bytes.
func MasterFileData(ctx context.Context, db DBTX, id int64) (MasterFile, []byte, error) {
	var m MasterFile
	var data []byte
	err := db.QueryRow(ctx, `SELECT `+masterFileCols+`, data FROM master_files WHERE id = $1`, id).Scan(
		&m.ID, &m.BatchID, &m.Version, &m.SHA256, &m.Size, &m.Reason, &m.CreatedAt, &data)
	return m, data, notFound(err, "The master file")
}

// LoadMasterFileContent locks the given batches in tx and loads what their next master file
// versions show: partner, period, items with their report rows, each item's history and the
// thread's emails. Each returned Batch has Version set to the next version number. It holds
// every item in memory: the master-file writer streams them instead (LoadMasterFileHeads with
// EachMasterFileItem and EachMasterFileEvent).
func LoadMasterFileContent(ctx context.Context, tx pgx.Tx, batchIDs []string, loc *time.Location, now time.Time) ([]masterfile.Batch, error) {
	out, err := LoadMasterFileHeads(ctx, tx, batchIDs, loc, now)
	if err != nil {
		return nil, err
	}
	for i := range out {
		b := &out[i]
		if err := EachMasterFileItem(ctx, tx, b.ID, func(it masterfile.Item) error {
			b.Items = append(b.Items, it)
			return nil
		}); err != nil {
			return nil, err
		}
		if err := EachMasterFileEvent(ctx, tx, b.ID, func(e masterfile.Event) error {
			b.History = append(b.History, e)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LoadMasterFileHeads locks the given batches in tx and loads what their next master file
// versions show apart from the items and their history: partner, period, next version number
// and the thread's emails.
func LoadMasterFileHeads(ctx context.Context, tx pgx.Tx, batchIDs []string, loc *time.Location, now time.Time) ([]masterfile.Batch, error) {
	if len(batchIDs) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT b.id::text, p.party_id, p.name, b.period,
			coalesce((SELECT max(version) FROM master_files m WHERE m.batch_id = b.id), 0) + 1
		FROM faulty_batches b JOIN partners p ON p.id = b.partner_id
		WHERE b.id::text = ANY($1) ORDER BY b.id FOR UPDATE OF b`, batchIDs)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (masterfile.Batch, error) {
		b := masterfile.Batch{Location: loc, GeneratedAt: now}
		err := r.Scan(&b.ID, &b.PartyID, &b.PartnerName, &b.Period, &b.Version)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	if len(out) != len(batchIDs) {
		return nil, apperror.New(apperror.NotFound, "%d of the %d batches were not found.", len(batchIDs)-len(out), len(batchIDs))
	}
	idx := make(map[string]int, len(out))
	for i, b := range out {
		idx[b.ID] = i
	}
	rows, err = tx.Query(ctx, `SELECT batch_id::text, seq, level, message_id, state, sent_at, to_addrs, cc_addrs
		FROM faulty_emails WHERE batch_id::text = ANY($1) ORDER BY batch_id, seq`, batchIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e masterfile.Email
		var sent *time.Time
		if err := rows.Scan(&id, &e.Seq, &e.Level, &e.MessageID, &e.State, &sent, &e.To, &e.CC); err != nil {
			return nil, err
		}
		e.SentAt = deref(sent)
		out[idx[id]].Emails = append(out[idx[id]].Emails, e)
	}
	return out, rows.Err()
}

// EachMasterFileItem streams a batch's items with their report rows in master-file order (by
// start, then id) to yield, one row at a time from the query's cursor.
func EachMasterFileItem(ctx context.Context, tx pgx.Tx, batchID string, yield func(masterfile.Item) error) error {
	rows, err := tx.Query(ctx, `SELECT i.auth_ref, r.cdr_id, r.ocpi_session_id, r.station_name, r.charger_station_id,
			r.city, r.connector_id, r.start_at, r.end_at, coalesce(r.energy_wh, 0), r.fault_reasons, i.state,
			coalesce(i.resolution, ''), i.reopened, i.created_at, i.resolved_at
		FROM faulty_items i JOIN faulty_report_rows r ON r.id = i.report_row_id
		WHERE i.batch_id = $1::uuid ORDER BY r.start_at NULLS LAST, i.id`, batchID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var it masterfile.Item
	var start, end, resolved *time.Time
	for rows.Next() {
		it = masterfile.Item{}
		if err := rows.Scan(&it.AuthRef, &it.CDRID, &it.OCPISessionID, &it.StationName, &it.StationID, &it.City,
			&it.Connector, &start, &end, &it.EnergyWh, &it.FaultReasons, &it.State, &it.Resolution, &it.Reopened,
			&it.CreatedAt, &resolved); err != nil {
			return err
		}
		it.Start, it.End, it.ResolvedAt = deref(start), deref(end), deref(resolved)
		if err := yield(it); err != nil {
			return err
		}
	}
	return rows.Err()
}

// partnerResponseLabels are the master file's words for the stored partner responses.
var partnerResponseLabels = map[string]string{"paid": "Paid", "credited": "Credited", "disputed": "Disputed",
	"will_pay": "Will pay by date", "other": "Other"}

// EachMasterFileEvent streams a batch's booking history to yield, grouped by booking in
// master-file order and oldest first within a booking: when validation confirmed it faulty,
// its item events (created, resolved, reopened, dispute decisions), the partner's disputes and
// other responses.
func EachMasterFileEvent(ctx context.Context, tx pgx.Tx, batchID string, yield func(masterfile.Event) error) error {
	rows, err := tx.Query(ctx, `WITH it AS MATERIALIZED (
			SELECT i.id, i.auth_ref, r.start_at, r.confirmed_at
			FROM faulty_items i JOIN faulty_report_rows r ON r.id = i.report_row_id WHERE i.batch_id = $1::uuid
		), e AS (
			SELECT it.id AS item_id, it.confirmed_at AS at, 0 AS k, 0::bigint AS eid, $2::text AS kind, ''::text AS from_state,
				''::text AS to_state, 'system:validation'::text AS actor, ''::text AS note
			FROM it WHERE it.confirmed_at IS NOT NULL
			UNION ALL
			SELECT ev.item_id, ev.at, 1, ev.id, ev.how, ev.from_state, ev.to_state, ev.actor, ev.note
			FROM faulty_item_events ev JOIN it ON it.id = ev.item_id
			UNION ALL
			SELECT d.item_id, d.created_at, 2, d.id, $3, '', '', 'partner', d.partner_note
			FROM faulty_disputes d WHERE d.batch_id = $1::uuid
			UNION ALL
			SELECT p.item_id, p.at, 2, p.id, $4, '', '', 'partner', p.response || chr(31) || p.note
			FROM faulty_item_responses p WHERE p.batch_id = $1::uuid AND p.response <> 'disputed'
		)
		SELECT it.auth_ref, e.at, e.kind, e.from_state, e.to_state, e.actor, e.note
		FROM e JOIN it ON it.id = e.item_id
		ORDER BY it.start_at NULLS LAST, it.id, e.at, e.k, e.eid`,
		batchID, masterfile.EventConfirmed, masterfile.EventDisputed, masterfile.EventResponse)
	if err != nil {
		return err
	}
	defer rows.Close()
	var e masterfile.Event
	for rows.Next() {
		e = masterfile.Event{}
		if err := rows.Scan(&e.AuthRef, &e.At, &e.Event, &e.From, &e.To, &e.By, &e.Note); err != nil {
			return err
		}
		if e.Event == masterfile.EventResponse {
			resp, note, _ := strings.Cut(e.Note, "\x1f")
			e.Note = partnerResponseLabels[resp]
			if note != "" {
				e.Note += ": " + note
			}
		}
		if err := yield(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
