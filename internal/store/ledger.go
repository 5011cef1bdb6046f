package store

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// DriverBalance is a driver's receivable balance (driver_balances).
type DriverBalance struct {
	DriverID     int64
	Name         string
	TLC          string
	BalanceCents int64
	Entries      int
	LastTxnAt    time.Time
}

// LedgerTotals are the sums of the ledger's account groups.
type LedgerTotals struct {
	Drivers  int64 // sum of every driver:* account
	Clearing int64 // clearing:ezpass
	Journals int   // JournalCount.N
	// JournalCount is exact up to CountCap journals, an estimate above.
	JournalCount Count
}

// DriverBalances lists drivers with ledger entries on their receivable,
// largest balance first (ties by driver id, newest driver first); q filters
// by name or TLC licence.
//
// The balances come from driver_balances (one row per driver, kept by a
// trigger on the entries in the posting transaction): without q the page is
// a backward scan of driver_balances_balance_idx joined to the page's
// drivers, so it does not grow with the ledger.
func DriverBalances(ctx context.Context, db DBTX, q string, limit, offset int) ([]DriverBalance, error) {
	rows, err := db.Query(ctx, `
		SELECT d.id, d.name, d.tlc_license, b.balance_cents, b.entries, b.last_txn_at
		FROM driver_balances b JOIN drivers d ON d.id = b.driver_id
		WHERE $1 = '' OR d.name ILIKE '%' || $1 || '%' OR d.tlc_license ILIKE '%' || $1 || '%'
		ORDER BY b.balance_cents DESC, b.driver_id DESC
		LIMIT $2 OFFSET $3`, q, limit, offset)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DriverBalance, error) {
		var b DriverBalance
		err := r.Scan(&b.DriverID, &b.Name, &b.TLC, &b.BalanceCents, &b.Entries, &b.LastTxnAt)
		return b, err
	})
}

// BalanceMismatch is a driver whose driver_balances row disagrees with the
// sum of the entries on their receivable (a missing row or a row without
// entries shows as zero on that side).
type BalanceMismatch struct {
	DriverID     int64
	TableCents   int64
	EntriesCents int64
	TableEntries int64
	EntryCount   int64
}

// CheckDriverBalances compares every driver_balances row with the sum and
// count of the driver's entries (one statement, one snapshot) and returns
// the drivers that differ, by driver id. It reads the whole ledger: run it
// from the periodic check job, not from a page.
func CheckDriverBalances(ctx context.Context, db DBTX) ([]BalanceMismatch, error) {
	rows, err := db.Query(ctx, `
		SELECT coalesce(b.driver_id, s.driver_id), coalesce(b.balance_cents, 0), coalesce(s.cents, 0),
			coalesce(b.entries, 0), coalesce(s.n, 0)
		FROM driver_balances b
		FULL JOIN (
			SELECT substr(account, 8)::bigint AS driver_id, sum(amount_cents) AS cents, count(*) AS n
			FROM ledger_entries WHERE account LIKE 'driver:%'
			GROUP BY 1
		) s ON s.driver_id = b.driver_id
		WHERE b.balance_cents IS DISTINCT FROM s.cents OR b.entries IS DISTINCT FROM s.n
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BalanceMismatch, error) {
		var m BalanceMismatch
		err := r.Scan(&m.DriverID, &m.TableCents, &m.EntriesCents, &m.TableEntries, &m.EntryCount)
		return m, err
	})
}

// Totals sums the driver receivables and the clearing account from the
// hourly rollup (ledger_hourly, kept by a trigger on the entries) and
// counts the journals (exact up to CountCap) in the same round trip.
func Totals(ctx context.Context, db DBTX) (LedgerTotals, error) {
	var t LedgerTotals
	var journals int64
	err := db.QueryRow(ctx, `SELECT
			coalesce(sum(cents) FILTER (WHERE account_group = 'driver'), 0),
			coalesce(sum(cents) FILTER (WHERE account_group = 'clearing:ezpass'), 0),
			`+cappedCount(journalsFrom)+`
		FROM ledger_hourly`).Scan(&t.Drivers, &t.Clearing, &journals)
	if err != nil {
		return t, err
	}
	t.JournalCount, err = countFrom(ctx, db, journals, journalsFrom)
	t.Journals = int(t.JournalCount.N)
	return t, err
}

// Driver is a driver's identity.
type Driver struct {
	ID   int64
	Name string
	TLC  string
}

// DriverByID returns one driver.
func DriverByID(ctx context.Context, db DBTX, id int64) (Driver, error) {
	var d Driver
	err := db.QueryRow(ctx, `SELECT id, name, tlc_license FROM drivers WHERE id = $1`, id).Scan(&d.ID, &d.Name, &d.TLC)
	return d, notFound(err, "Driver #"+strconv.FormatInt(id, 10))
}

// StatementLine is one entry on a driver's receivable, with its toll.
type StatementLine struct {
	JournalID    int64
	Kind         string
	TxnAt        time.Time
	PostedAt     time.Time
	TxnID        int64 // the E-ZPass transaction, 0 for other sources
	Agency       string
	Plaza        string
	PlateOrTag   string
	MatchMethod  string
	Description  string
	AmountCents  int64
	RunningCents int64
}

// DriverStatement lists a driver's receivable entries in time order with
// the running balance (at most limit lines, the latest ones).
func DriverStatement(ctx context.Context, db DBTX, driverID int64, limit int) ([]StatementLine, error) {
	rows, err := db.Query(ctx, `
		SELECT * FROM (
			SELECT j.id, j.kind, j.txn_at, j.posted_at, coalesce(t.id, 0), coalesce(t.agency, ''),
				coalesce(nullif(t.exit_plaza, ''), t.entry_plaza, ''), coalesce(t.tag_or_plate, ''),
				coalesce(t.match_method, ''), j.description, e.amount_cents,
				sum(e.amount_cents) OVER (ORDER BY j.txn_at, j.id ROWS UNBOUNDED PRECEDING)
			FROM ledger_entries e
			JOIN ledger_journals j ON j.id = e.journal_id
			LEFT JOIN ezpass_transactions t ON t.id = j.toll_id
			WHERE e.account = 'driver:' || $1::bigint
			ORDER BY j.txn_at DESC, j.id DESC LIMIT $2
		) s ORDER BY 3, 1`, driverID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StatementLine, error) {
		var l StatementLine
		err := r.Scan(&l.JournalID, &l.Kind, &l.TxnAt, &l.PostedAt, &l.TxnID, &l.Agency, &l.Plaza, &l.PlateOrTag,
			&l.MatchMethod, &l.Description, &l.AmountCents, &l.RunningCents)
		return l, err
	})
}

// JournalEntry is one stored entry with the names of its dimensions.
type JournalEntry struct {
	ID          int64
	Account     string
	AmountCents int64
	DriverID    int64
	DriverName  string
	LeaseRef    string
	VIN         string
	Medallion   string
}

// JournalView is a stored journal with its entries.
type JournalView struct {
	ID          int64
	SourceType  string
	SourceID    string
	Kind        string
	Generation  int
	TxnAt       time.Time
	PostedAt    time.Time
	Description string
	CreatedBy   string
	ReversalOf  int64
	ReversedBy  int64
	Entries     []JournalEntry
	// CreatedByLabel, SourceLabel and SourceURL name the creator and the
	// source for people (NameJournal); empty when not looked up.
	CreatedByLabel string
	SourceLabel    string
	SourceURL      string
}

// NameJournal fills the creator's and the source's names of j in one lookup.
func NameJournal(ctx context.Context, db DBTX, j *JournalView, tz *time.Location) error {
	names, err := SubjectNames(ctx, db, []string{j.CreatedBy, SubjectKey(j.SourceType, j.SourceID)}, tz)
	if err != nil {
		return err
	}
	j.CreatedByLabel = names[j.CreatedBy].Label
	src := SubjectKey(j.SourceType, j.SourceID)
	if j.SourceType == "EZPASS" {
		src = SubjectKey("ezpass_transaction", j.SourceID)
	}
	j.SourceLabel, j.SourceURL = names[src].Label, names[src].URL
	return nil
}

const journalCols = `j.id, j.source_type, j.source_id, j.kind, j.generation, j.txn_at, j.posted_at, j.description, j.created_by,
	coalesce(j.reversal_of, 0), coalesce((SELECT r.id FROM ledger_journals r WHERE r.reversal_of = j.id), 0)`

func scanJournal(r pgx.Row, j *JournalView) error {
	return r.Scan(&j.ID, &j.SourceType, &j.SourceID, &j.Kind, &j.Generation, &j.TxnAt, &j.PostedAt, &j.Description, &j.CreatedBy,
		&j.ReversalOf, &j.ReversedBy)
}

// Journal returns one journal with its entries.
func Journal(ctx context.Context, db DBTX, id int64) (JournalView, error) {
	var j JournalView
	if err := scanJournal(db.QueryRow(ctx, `SELECT `+journalCols+` FROM ledger_journals j WHERE j.id = $1`, id), &j); err != nil {
		return j, notFound(err, "Journal #"+strconv.FormatInt(id, 10))
	}
	entries, err := journalEntries(ctx, db, []int64{id})
	j.Entries = entries[id]
	return j, err
}

// JournalsForSource returns the journals of one source (e.g. EZPASS and a
// transaction id), oldest first, with their entries.
func JournalsForSource(ctx context.Context, db DBTX, sourceType, sourceID string) ([]JournalView, error) {
	rows, err := db.Query(ctx, `SELECT `+journalCols+` FROM ledger_journals j WHERE j.source_type = $1 AND j.source_id = $2 ORDER BY j.id`,
		sourceType, sourceID)
	if err != nil {
		return nil, err
	}
	js, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (JournalView, error) {
		var j JournalView
		return j, scanJournal(r, &j)
	})
	if err != nil || len(js) == 0 {
		return js, err
	}
	ids := make([]int64, len(js))
	for i, j := range js {
		ids[i] = j.ID
	}
	entries, err := journalEntries(ctx, db, ids)
	for i := range js {
		js[i].Entries = entries[js[i].ID]
	}
	return js, err
}

func journalEntries(ctx context.Context, db DBTX, ids []int64) (map[int64][]JournalEntry, error) {
	rows, err := db.Query(ctx, `
		SELECT e.journal_id, e.id, e.account, e.amount_cents, coalesce(e.driver_id, 0), coalesce(d.name, ''),
			coalesce(l.ref, '#' || l.id::text, ''), coalesce(v.vin, ''), coalesce(m.number, '')
		FROM ledger_entries e
		LEFT JOIN drivers d ON d.id = e.driver_id
		LEFT JOIN leases l ON l.id = e.lease_id
		LEFT JOIN vehicles v ON v.id = e.vehicle_id
		LEFT JOIN medallions m ON m.id = e.medallion_id
		WHERE e.journal_id = ANY($1) ORDER BY e.journal_id, e.id`, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64][]JournalEntry{}
	for rows.Next() {
		var jid int64
		var e JournalEntry
		if err := rows.Scan(&jid, &e.ID, &e.Account, &e.AmountCents, &e.DriverID, &e.DriverName, &e.LeaseRef, &e.VIN, &e.Medallion); err != nil {
			rows.Close()
			return nil, err
		}
		out[jid] = append(out[jid], e)
	}
	return out, rows.Err()
}

// FailureGroup is one failure code in the queue with its count.
type FailureGroup struct {
	Code  string
	Count int
}

// FailedTxn is a toll in the failures queue.
type FailedTxn struct {
	ID             int64
	TxnAt          time.Time
	TagOrPlate     string
	Agency         string
	Plaza          string
	AmountCents    int64
	Status         string
	FailureCode    string
	FailureMessage string
	FailureHint    string
	VehicleID      int64
	VIN            string
}

// FailureGroups counts tolls waiting in the queue by failure code, from the
// hourly rollup (exact; its cost follows the hours with failures, not the
// number of tolls).
func FailureGroups(ctx context.Context, db DBTX) ([]FailureGroup, error) {
	rows, err := db.Query(ctx, `SELECT failure_code, sum(n)::bigint FROM ezpass_txn_hourly
		WHERE status IN ('association_failed', 'posting_failed') GROUP BY 1 HAVING sum(n) > 0 ORDER BY 2 DESC, 1`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailureGroup, error) {
		var g FailureGroup
		return g, r.Scan(&g.Code, &g.Count)
	})
}

// FailedTxns lists the queue (code ” for every code), oldest toll first, after id.
func FailedTxns(ctx context.Context, db DBTX, code string, afterID int64, limit int) ([]FailedTxn, error) {
	rows, err := db.Query(ctx, `
		SELECT t.id, t.txn_at, t.tag_or_plate, t.agency, coalesce(nullif(t.exit_plaza, ''), t.entry_plaza), t.amount_cents,
			t.status, t.failure_code, t.failure_message, t.failure_hint, coalesce(t.vehicle_id, 0), coalesce(v.vin, '')
		FROM ezpass_transactions t LEFT JOIN vehicles v ON v.id = t.vehicle_id
		WHERE t.status IN ('association_failed', 'posting_failed') AND ($1 = '' OR t.failure_code = $1) AND t.id > $2
		ORDER BY t.id LIMIT $3`, code, afterID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanFailed)
}

func scanFailed(r pgx.CollectableRow) (FailedTxn, error) {
	var f FailedTxn
	err := r.Scan(&f.ID, &f.TxnAt, &f.TagOrPlate, &f.Agency, &f.Plaza, &f.AmountCents, &f.Status, &f.FailureCode,
		&f.FailureMessage, &f.FailureHint, &f.VehicleID, &f.VIN)
	return f, err
}

// TxnForAssign returns a toll as the Assign form shows it (any status).
func TxnForAssign(ctx context.Context, db DBTX, id int64) (FailedTxn, error) {
	rows, err := db.Query(ctx, `
		SELECT t.id, t.txn_at, t.tag_or_plate, t.agency, coalesce(nullif(t.exit_plaza, ''), t.entry_plaza), t.amount_cents,
			t.status, t.failure_code, t.failure_message, t.failure_hint, coalesce(t.vehicle_id, 0), coalesce(v.vin, '')
		FROM ezpass_transactions t LEFT JOIN vehicles v ON v.id = t.vehicle_id WHERE t.id = $1`, id)
	if err != nil {
		return FailedTxn{}, err
	}
	f, err := pgx.CollectExactlyOneRow(rows, scanFailed)
	if err != nil {
		return f, notFound(err, "Transaction #"+strconv.FormatInt(id, 10))
	}
	return f, nil
}
