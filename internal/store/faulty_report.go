package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/faulty"
)

// ReportUpsert counts what UpsertReportRows did.
type ReportUpsert struct {
	// Rows is how many report rows were copied; Distinct how many distinct references they held.
	Rows     int `json:"rows"`
	Distinct int `json:"distinct"`
	// Duplicates is Rows - Distinct: rows repeating a reference (the last one is kept).
	Duplicates int `json:"duplicates"`
	Inserted   int `json:"inserted"`
	Updated    int `json:"updated"`
	// NoLongerInReport counts rows of the period that this report no longer holds.
	NoLongerInReport int `json:"no_longer_in_report"`
	// AbsentKept is true when absent rows were not marked (the report had unreadable rows).
	AbsentKept bool `json:"absent_kept,omitempty"`
}

// ReportRowSource yields report rows one at a time and io.EOF after the last.
type ReportRowSource func() (faulty.ReportRow, error)

// reportKey is the stored reference of a row: the normalised ObjectId when valid, else the
// trimmed text as reported (so invalid references are kept and queued, not lost).
func reportKey(ref string) string {
	if n, ok := faulty.NormalizeReference(ref); ok {
		return n
	}
	return strings.TrimSpace(ref)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// UpsertReportRows loads one report of a period in tx, set-based: the rows are copied into a
// temporary staging table, then one INSERT … ON CONFLICT (period, auth_ref) DO UPDATE writes the
// report fields, last_seen_at and in_latest_report. When markAbsent (asked after the last row was
// read) reports true, rows of the period missing from this report get in_latest_report = false. Personal data never reaches the table: a
// faulty.ReportRow does not carry it.
func UpsertReportRows(ctx context.Context, tx pgx.Tx, period string, next ReportRowSource, markAbsent func() bool) (ReportUpsert, error) {
	var res ReportUpsert
	if err := EnsureFaultyPeriod(ctx, tx, period); err != nil {
		return res, err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE faulty_stage (
			auth_ref text, party_id text, partner_name text, charger_station_id text, station_name text, city text,
			state text, connector_id text, energy_wh bigint, payment_status text, report_reasons text, cdr_id text,
			ocpi_session_id text, scheduled_at timestamptz, start_at timestamptz, end_at timestamptz,
			start_soc text, stop_soc text, sheet_row int
		) ON COMMIT DROP`); err != nil {
		return res, err
	}
	src := pgx.CopyFromFunc(func() ([]any, error) {
		r, err := next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []any{reportKey(r.AuthorizationReference), strings.TrimSpace(r.PartyID), r.PartnerName, r.ChargerStationID,
			r.StationName, r.City, r.State, r.ConnectorID, int64(r.EnergyConsumed), r.PaymentStatus, r.FaultyReasons,
			r.CDRID, r.OCPISessionID, nullTime(r.ScheduledTime), nullTime(r.StartTime), nullTime(r.EndTime),
			r.StartSoC, r.StopSoC, r.Row}, nil
	})
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"faulty_stage"}, []string{"auth_ref", "party_id", "partner_name",
		"charger_station_id", "station_name", "city", "state", "connector_id", "energy_wh", "payment_status",
		"report_reasons", "cdr_id", "ocpi_session_id", "scheduled_at", "start_at", "end_at", "start_soc", "stop_soc", "sheet_row"}, src)
	if err != nil {
		return res, fmt.Errorf("copy report rows: %w", err)
	}
	res.Rows = int(n)
	err = tx.QueryRow(ctx, `WITH s AS (
			SELECT DISTINCT ON (auth_ref) * FROM faulty_stage ORDER BY auth_ref, sheet_row DESC
		), up AS (
			INSERT INTO faulty_report_rows AS r (period, auth_ref, party_id, partner_name, charger_station_id, station_name,
				city, state, connector_id, energy_wh, payment_status, report_reasons, cdr_id, ocpi_session_id,
				scheduled_at, start_at, end_at, start_soc, stop_soc, sheet_row)
			SELECT $1, auth_ref, party_id, partner_name, charger_station_id, station_name, city, state, connector_id,
				energy_wh, payment_status, report_reasons, cdr_id, ocpi_session_id, scheduled_at, start_at, end_at,
				start_soc, stop_soc, sheet_row FROM s
			ON CONFLICT (period, auth_ref) DO UPDATE SET
				party_id = EXCLUDED.party_id, partner_name = EXCLUDED.partner_name,
				charger_station_id = EXCLUDED.charger_station_id, station_name = EXCLUDED.station_name,
				city = EXCLUDED.city, state = EXCLUDED.state, connector_id = EXCLUDED.connector_id,
				energy_wh = EXCLUDED.energy_wh, payment_status = EXCLUDED.payment_status,
				report_reasons = EXCLUDED.report_reasons, cdr_id = EXCLUDED.cdr_id,
				ocpi_session_id = EXCLUDED.ocpi_session_id, scheduled_at = EXCLUDED.scheduled_at,
				start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, start_soc = EXCLUDED.start_soc,
				stop_soc = EXCLUDED.stop_soc, sheet_row = EXCLUDED.sheet_row,
				last_seen_at = now(), in_latest_report = true,
				-- A different Party ID invalidates the validation.
				confirmed = CASE WHEN r.party_id = EXCLUDED.party_id THEN r.confirmed END,
				confirmed_at = CASE WHEN r.party_id = EXCLUDED.party_id THEN r.confirmed_at END,
				validated_at = CASE WHEN r.party_id = EXCLUDED.party_id THEN r.validated_at END
			RETURNING (xmax = 0) AS inserted
		)
		SELECT (SELECT count(*) FROM s), count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`,
		period).Scan(&res.Distinct, &res.Inserted, &res.Updated)
	if err != nil {
		return res, fmt.Errorf("upsert report rows: %w", err)
	}
	res.Duplicates = res.Rows - res.Distinct
	if markAbsent == nil || markAbsent() {
		tag, err := tx.Exec(ctx, `UPDATE faulty_report_rows r SET in_latest_report = false
			WHERE r.period = $1 AND r.in_latest_report
				AND NOT EXISTS (SELECT 1 FROM faulty_stage s WHERE s.auth_ref = r.auth_ref)`, period)
		if err != nil {
			return res, err
		}
		res.NoLongerInReport = int(tag.RowsAffected())
	} else {
		res.AbsentKept = true
	}
	if _, err := tx.Exec(ctx, `UPDATE faulty_periods SET report_rows = $2 WHERE period = $1`, period, res.Distinct); err != nil {
		return res, err
	}
	if res.Inserted+res.Updated >= analyzeThreshold {
		if _, err := tx.Exec(ctx, `ANALYZE faulty_report_rows`); err != nil {
			return res, err
		}
	}
	_, err = tx.Exec(ctx, `DROP TABLE faulty_stage`)
	return res, err
}

// ValidationScope selects the rows a validation run checks.
type ValidationScope int

// The validation scopes.
const (
	// ScopeAll is every row of the latest report (the validation phase).
	ScopeAll ValidationScope = iota
	// ScopeRevalidation is the rows with an open item or one resolved as no longer faulty (it may
	// turn faulty again), the UNKNOWN_PARTNER rows and rows never validated (the daily monitoring
	// re-validation and the Re-validate button).
	ScopeRevalidation
)

// RowToValidate is what validation needs of a report row.
type RowToValidate struct {
	ID      int64
	AuthRef string
	PartyID string
}

// RowsToValidate returns a period's rows in the latest report that scope selects.
func RowsToValidate(ctx context.Context, db DBTX, period string, scope ValidationScope) ([]RowToValidate, error) {
	return RowsToValidateAfter(ctx, db, period, scope, 0, 0)
}

// RowsToValidateAfter returns the next at most limit rows (limit <= 0: all) that scope selects
// after row id after, by id: a keyset page, so validation reads a period in chunks.
func RowsToValidateAfter(ctx context.Context, db DBTX, period string, scope ValidationScope, after int64, limit int) ([]RowToValidate, error) {
	q := `SELECT r.id, r.auth_ref, r.party_id FROM faulty_report_rows r WHERE r.period = $1 AND r.in_latest_report AND r.id > $2`
	args := []any{period, after}
	if scope == ScopeRevalidation {
		q += ` AND (r.confirmed IS NULL OR r.reason = $3 OR EXISTS (
			SELECT 1 FROM faulty_items i WHERE i.report_row_id = r.id AND (i.state = 'open' OR i.resolution = 'no_longer_faulty')))`
		args = append(args, string(faulty.ReasonUnknownPartner))
	}
	q += ` ORDER BY r.id`
	if limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RowToValidate, error) {
		var x RowToValidate
		err := r.Scan(&x.ID, &x.AuthRef, &x.PartyID)
		return x, err
	})
}

// Validated is the predicate's outcome for one report row.
type Validated struct {
	RowID int64
	// PartnerID is the partner the Party ID maps to; 0 when none (UNKNOWN_PARTNER).
	PartnerID int64
	Reason    faulty.Reason
	// FaultReasons are MongoDB's reasons (empty when the booking was not found).
	FaultReasons []string
}

// ApplyValidation writes validation outcomes set-based: the results are copied into a temporary
// table and one UPDATE sets partner_id, confirmed, reason, fault_reasons and validated_at.
func ApplyValidation(ctx context.Context, tx pgx.Tx, results []Validated) (int, error) {
	if len(results) == 0 {
		return 0, nil
	}
	w, err := BeginValidation(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := w.Stage(ctx, results); err != nil {
		return 0, err
	}
	return w.Apply(ctx)
}

// ValidationWriter writes a validation's outcomes set-based, chunk by chunk: Stage copies each
// chunk into a temporary table (COPY), Apply writes them all with one UPDATE and ANALYZEs the
// rows it changed (autovacuum is off).
type ValidationWriter struct {
	tx     pgx.Tx
	staged int
}

// BeginValidation creates the staging table of a validation in tx.
func BeginValidation(ctx context.Context, tx pgx.Tx) (*ValidationWriter, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE faulty_validation (row_id bigint, partner_id bigint, reason text, fault_reasons text[]) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	return &ValidationWriter{tx: tx}, nil
}

// Stage copies one chunk of outcomes into the staging table.
func (w *ValidationWriter) Stage(ctx context.Context, results []Validated) error {
	i := 0
	n, err := w.tx.CopyFrom(ctx, pgx.Identifier{"faulty_validation"}, []string{"row_id", "partner_id", "reason", "fault_reasons"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= len(results) {
				return nil, nil
			}
			v := results[i]
			i++
			var pid any
			if v.PartnerID != 0 {
				pid = v.PartnerID
			}
			return []any{v.RowID, pid, string(v.Reason), nonNil(v.FaultReasons)}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy validation results: %w", err)
	}
	w.staged += int(n)
	return nil
}

// Apply writes every staged outcome with one UPDATE, drops the staging table and returns how
// many rows it updated.
func (w *ValidationWriter) Apply(ctx context.Context) (int, error) {
	updated := 0
	if w.staged > 0 {
		tag, err := w.tx.Exec(ctx, `UPDATE faulty_report_rows r SET partner_id = v.partner_id, confirmed = (v.reason = ''),
				reason = v.reason, fault_reasons = v.fault_reasons, validated_at = now(),
				confirmed_at = CASE WHEN v.reason = '' THEN coalesce(r.confirmed_at, now()) END
			FROM faulty_validation v WHERE r.id = v.row_id`)
		if err != nil {
			return 0, err
		}
		updated = int(tag.RowsAffected())
	}
	if _, err := w.tx.Exec(ctx, `DROP TABLE faulty_validation`); err != nil {
		return 0, err
	}
	if updated >= analyzeThreshold {
		if _, err := w.tx.Exec(ctx, `ANALYZE faulty_report_rows`); err != nil {
			return 0, err
		}
	}
	return updated, nil
}

// analyzeThreshold is how many rows a bulk write changes before it ANALYZEs the table
// (autovacuum is off, so nothing else refreshes the planner's statistics).
const analyzeThreshold = 5000

// ReasonCount is how many rows share one not-confirmed reason.
type ReasonCount struct {
	Reason faulty.Reason
	Count  int
}

// NotConfirmedCounts groups the not-confirmed rows of the latest reports by reason, most first;
// period "" means every period.
func NotConfirmedCounts(ctx context.Context, db DBTX, period string) ([]ReasonCount, error) {
	rows, err := db.Query(ctx, `SELECT reason, count(*) FROM faulty_report_rows
		WHERE in_latest_report AND confirmed = false AND ($1 = '' OR period = $1)
		GROUP BY reason ORDER BY count(*) DESC, reason`, period)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReasonCount, error) {
		var x ReasonCount
		err := r.Scan(&x.Reason, &x.Count)
		return x, err
	})
}

// UnknownParty is one Party ID of the UNKNOWN_PARTNER queue.
type UnknownParty struct {
	PartyID string
	// PartnerName is the name the report gives (the most frequent one).
	PartnerName string
	Count       int
	Periods     []string
}

// UnknownParties lists the Party IDs of UNKNOWN_PARTNER rows with their counts; period "" means
// every period.
func UnknownParties(ctx context.Context, db DBTX, period string) ([]UnknownParty, error) {
	rows, err := db.Query(ctx, `SELECT party_id, mode() WITHIN GROUP (ORDER BY partner_name), count(*),
			array_agg(DISTINCT period ORDER BY period)
		FROM faulty_report_rows
		WHERE in_latest_report AND reason = $1 AND ($2 = '' OR period = $2)
		GROUP BY party_id ORDER BY count(*) DESC, party_id`, string(faulty.ReasonUnknownPartner), period)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnknownParty, error) {
		var x UnknownParty
		err := r.Scan(&x.PartyID, &x.PartnerName, &x.Count, &x.Periods)
		return x, err
	})
}

// ReportRow is a stored report row as the pages show it.
type ReportRow struct {
	ID               int64
	Period           string
	AuthRef          string
	PartyID          string
	PartnerName      string
	PartnerID        *int64
	ChargerStationID string
	StationName      string
	City             string
	ConnectorID      string
	EnergyWh         *int64
	CDRID            string
	OCPISessionID    string
	StartAt          *time.Time
	EndAt            *time.Time
	InLatestReport   bool
	Confirmed        *bool
	Reason           string
	FaultReasons     []string
	ValidatedAt      *time.Time
}

// ReportRowFilter narrows ListReportRows.
type ReportRowFilter struct {
	Period string
	// Reason selects the not-confirmed rows with this reason.
	Reason string
	Limit  int
}

// ListReportRows returns the rows of the latest reports matching f, by period and sheet row.
func ListReportRows(ctx context.Context, db DBTX, f ReportRowFilter) ([]ReportRow, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	rows, err := db.Query(ctx, `SELECT id, period, auth_ref, party_id, partner_name, partner_id, charger_station_id,
			station_name, city, connector_id, energy_wh, cdr_id, ocpi_session_id, start_at, end_at, in_latest_report,
			confirmed, reason, fault_reasons, validated_at
		FROM faulty_report_rows
		WHERE in_latest_report AND ($1 = '' OR period = $1) AND ($2 = '' OR (reason = $2 AND confirmed = false))
		ORDER BY period DESC, sheet_row LIMIT $3`, f.Period, f.Reason, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReportRow, error) {
		var x ReportRow
		err := r.Scan(&x.ID, &x.Period, &x.AuthRef, &x.PartyID, &x.PartnerName, &x.PartnerID, &x.ChargerStationID,
			&x.StationName, &x.City, &x.ConnectorID, &x.EnergyWh, &x.CDRID, &x.OCPISessionID, &x.StartAt, &x.EndAt,
			&x.InLatestReport, &x.Confirmed, &x.Reason, &x.FaultReasons, &x.ValidatedAt)
		return x, err
	})
}

// PeriodCounts summarises a period's rows, batches and items.
type PeriodCounts struct {
	Rows           int `json:"rows"`
	InLatest       int `json:"in_latest_report"`
	Confirmed      int `json:"confirmed"`
	NotConfirmed   int `json:"not_confirmed"`
	NotValidated   int `json:"not_validated"`
	UnknownPartner int `json:"unknown_partner"`
	Batches        int `json:"batches"`
	OpenItems      int `json:"open_items"`
	ResolvedItems  int `json:"resolved_items"`
}

// FaultyPeriodCounts counts a period's rows (latest report), batches and items.
func FaultyPeriodCounts(ctx context.Context, db DBTX, period string) (PeriodCounts, error) {
	var c PeriodCounts
	err := db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE in_latest_report),
			count(*) FILTER (WHERE in_latest_report AND confirmed),
			count(*) FILTER (WHERE in_latest_report AND confirmed = false),
			count(*) FILTER (WHERE in_latest_report AND confirmed IS NULL),
			count(*) FILTER (WHERE in_latest_report AND reason = $2),
			(SELECT count(*) FROM faulty_batches WHERE period = $1),
			(SELECT count(*) FROM faulty_items i JOIN faulty_batches b ON b.id = i.batch_id WHERE b.period = $1 AND i.state = 'open'),
			(SELECT count(*) FROM faulty_items i JOIN faulty_batches b ON b.id = i.batch_id WHERE b.period = $1 AND i.state = 'resolved')
		FROM faulty_report_rows WHERE period = $1`, period, string(faulty.ReasonUnknownPartner)).Scan(
		&c.Rows, &c.InLatest, &c.Confirmed, &c.NotConfirmed, &c.NotValidated, &c.UnknownPartner, &c.Batches, &c.OpenItems, &c.ResolvedItems)
	return c, err
}

// PeriodsNeedingRevalidation returns the tracked periods that have open items or
// UNKNOWN_PARTNER rows, oldest first.
func PeriodsNeedingRevalidation(ctx context.Context, db DBTX) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT p.period FROM faulty_periods p
		WHERE p.validated_at IS NOT NULL AND (
			EXISTS (SELECT 1 FROM faulty_batches b JOIN faulty_items i ON i.batch_id = b.id WHERE b.period = p.period AND i.state = 'open')
			OR EXISTS (SELECT 1 FROM faulty_report_rows r WHERE r.period = p.period AND r.in_latest_report AND r.reason = $1))
		ORDER BY p.period`, string(faulty.ReasonUnknownPartner))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
