package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// StatementPageSize is the most lines a statement page shows.
const StatementPageSize = 100

// StatementPageQuery picks one page of a driver's statement, newest entry
// first: Before (an entry id) pages to older entries, After to newer ones;
// neither is the newest page.
type StatementPageQuery struct {
	DriverID int64
	Before   int64
	After    int64
	Limit    int // default and at most StatementPageSize
}

// StatementPage is one page of a driver's statement, newest entry first,
// in posting order (the order the entries were written).
type StatementPage struct {
	Lines []StatementLine
	// Balance is the driver's balance now (every entry).
	Balance int64
	// Closing is the balance after the page's newest line, Opening the
	// balance before its oldest one.
	Closing, Opening int64
	// Older and Newer are the cursors (entry ids) of the neighbouring
	// pages: Before=Older, After=Newer; 0 when there is none.
	Older, Newer int64
}

// DriverStatementPage returns one keyset page of a driver's receivable
// entries (at most 100), newest first, with the running balance.
//
// Every query reads the index on ledger_entries (account, id DESC) INCLUDE
// (amount_cents): the page's rows, the sum of the entries newer than the
// page (bounded by how far back the page is); the driver's balance is their
// driver_balances row. The tolls and journals are joined for the page's
// rows only.
func DriverStatementPage(ctx context.Context, db DBTX, q StatementPageQuery) (StatementPage, error) {
	var p StatementPage
	if q.Limit <= 0 || q.Limit > StatementPageSize {
		q.Limit = StatementPageSize
	}
	account := "driver:" + strconv.FormatInt(q.DriverID, 10)
	cond, order, key := "e.id > $2", "e.id DESC", int64(0)
	switch {
	case q.After > 0:
		cond, order, key = "e.id > $2", "e.id ASC", q.After
	case q.Before > 0:
		cond, key = "e.id < $2", q.Before
	}
	rows, err := db.Query(ctx, `
		SELECT e.id, j.id, j.kind, j.txn_at, j.posted_at, coalesce(t.id, 0), coalesce(t.agency, ''),
			coalesce(nullif(t.exit_plaza, ''), t.entry_plaza, ''), coalesce(t.tag_or_plate, ''),
			coalesce(t.match_method, ''), j.description, e.amount_cents
		FROM (
			SELECT e.id, e.journal_id, e.amount_cents FROM ledger_entries e
			WHERE e.account = $1 AND `+cond+`
			ORDER BY `+order+` LIMIT $3
		) e
		JOIN ledger_journals j ON j.id = e.journal_id
		LEFT JOIN LATERAL (
			SELECT t.id, t.agency, t.exit_plaza, t.entry_plaza, t.tag_or_plate, t.match_method FROM ezpass_transactions t
			WHERE j.source_type = 'EZPASS' AND t.id = CASE WHEN j.source_id ~ '^[0-9]{1,18}$' THEN j.source_id::bigint END
		) t ON true`, account, key, q.Limit+1)
	if err != nil {
		return p, err
	}
	type line struct {
		entry int64
		l     StatementLine
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (line, error) {
		var x line
		l := &x.l
		err := r.Scan(&x.entry, &l.JournalID, &l.Kind, &l.TxnAt, &l.PostedAt, &l.TxnID, &l.Agency, &l.Plaza, &l.PlateOrTag,
			&l.MatchMethod, &l.Description, &l.AmountCents)
		return x, err
	})
	if err != nil {
		return p, err
	}
	slices.SortFunc(lines, func(a, b line) int { return cmp.Compare(b.entry, a.entry) })
	lines, more := trimKeysetPage(lines, q.Limit, q.After > 0)
	var newest, oldest int64
	if len(lines) > 0 {
		newest, oldest = lines[0].entry, lines[len(lines)-1].entry
	}
	// One statement, one snapshot: the balance (driver_balances) and what
	// was posted after the page (nothing to sum without lines).
	var after int64
	if len(lines) == 0 {
		newest = math.MaxInt64
	}
	if err := db.QueryRow(ctx, `SELECT
			coalesce((SELECT balance_cents FROM driver_balances WHERE driver_id = $3), 0),
			coalesce((SELECT sum(amount_cents) FROM ledger_entries WHERE account = $1 AND id > $2), 0)`,
		account, newest, q.DriverID).Scan(&p.Balance, &after); err != nil {
		return p, err
	}
	if len(lines) == 0 {
		p.Closing, p.Opening = p.Balance, p.Balance
		return p, nil
	}
	p.Closing = p.Balance - after
	running := p.Closing
	for _, x := range lines {
		x.l.RunningCents = running
		running -= x.l.AmountCents
		p.Lines = append(p.Lines, x.l)
	}
	p.Opening = running
	p.Older, p.Newer = keysetNeighbours(q.After, q.Before, more, newest, oldest)
	return p, nil
}
