package store

import (
	"cmp"
	"context"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
)

// DisputePageSize is the most disputes a page of the Disputes page shows.
const DisputePageSize = 100

// DisputePageQuery picks one page of disputes, newest first (created_at,
// then id): Before (a dispute id) pages to older disputes, After to newer
// ones; neither is the newest page.
type DisputePageQuery struct {
	// State is open, accepted or rejected; "" means every state.
	State  string
	Before int64
	After  int64
	Limit  int // default and at most DisputePageSize
}

// DisputePage is one page of disputes, newest first.
type DisputePage struct {
	Disputes []Dispute
	// Older and Newer are the cursors (dispute ids) of the neighbouring
	// pages: Before=Older, After=Newer; 0 when there is none.
	Older, Newer int64
}

// where is the query's state condition as SQL on faulty_disputes d with
// its arguments (none, or the state as $1).
func (q DisputePageQuery) where() (string, []any, error) {
	switch q.State {
	case "":
		return `true`, nil, nil
	case "open", "accepted", "rejected":
		return `d.state = $1`, []any{q.State}, nil
	}
	return "", nil, apperror.New(apperror.Invalid, "The state must be open, accepted or rejected.")
}

// ListDisputePage returns one keyset page of disputes (at most
// DisputePageSize). The page's rows are picked from faulty_disputes alone
// in (state, created_at, id) or (created_at, id) index order, then joined
// for their item, batch and partner: the work is one page's, however many
// disputes there are. A cursor that names no dispute is an empty page.
func ListDisputePage(ctx context.Context, db DBTX, q DisputePageQuery) (DisputePage, error) {
	var p DisputePage
	if q.Limit <= 0 || q.Limit > DisputePageSize {
		q.Limit = DisputePageSize
	}
	cond, args, err := q.where()
	if err != nil {
		return p, err
	}
	order := "d.created_at DESC, d.id DESC"
	at := func(op string, id int64) {
		args = append(args, id)
		cond += ` AND (d.created_at, d.id) ` + op + ` (SELECT created_at, id FROM faulty_disputes WHERE id = $` + strconv.Itoa(len(args)) + `)`
	}
	switch {
	case q.After > 0:
		at(">", q.After)
		order = "d.created_at, d.id"
	case q.Before > 0:
		at("<", q.Before)
	}
	rows, err := db.Query(ctx, `SELECT d.id, d.item_id, i.auth_ref, d.batch_id::text, p.party_id, p.name, b.period, d.state,
			d.partner_note, d.decided_by, d.decided_at, d.decision_note, d.created_at
		FROM (
			SELECT d.* FROM faulty_disputes d
			WHERE (`+cond+`)
			ORDER BY `+order+` LIMIT `+strconv.Itoa(q.Limit+1)+`
		) d
		JOIN faulty_items i ON i.id = d.item_id JOIN faulty_batches b ON b.id = d.batch_id
		JOIN partners p ON p.id = b.partner_id`, args...)
	if err != nil {
		return p, err
	}
	ds, err := pgx.CollectRows(rows, scanDispute)
	if err != nil {
		return p, err
	}
	// Newest first, whichever way the rows were read.
	slices.SortFunc(ds, func(a, b Dispute) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	ds, more := trimKeysetPage(ds, q.Limit, q.After > 0)
	p.Disputes = ds
	if len(ds) == 0 {
		return p, nil
	}
	newest, oldest := ds[0].ID, ds[len(ds)-1].ID
	p.Older, p.Newer = keysetNeighbours(q.After, q.Before, more, newest, oldest)
	return p, nil
}

// CountDisputes counts the disputes in a state ("" is every state): exact
// up to CountCap, else an estimate.
func CountDisputes(ctx context.Context, db DBTX, state string) (Count, error) {
	cond, args, err := DisputePageQuery{State: state}.where()
	if err != nil {
		return Count{}, err
	}
	return countCapped(ctx, db, `FROM faulty_disputes d WHERE (`+cond+`)`, args...)
}

func scanDispute(r pgx.CollectableRow) (Dispute, error) {
	var d Dispute
	err := r.Scan(&d.ID, &d.ItemID, &d.AuthRef, &d.BatchID, &d.PartyID, &d.PartnerName, &d.Period, &d.State,
		&d.PartnerNote, &d.DecidedBy, &d.DecidedAt, &d.DecisionNote, &d.CreatedAt)
	return d, err
}

// trimKeysetPage cuts a newest-first keyset read of limit+1 rows to the
// page: the extra row, when there is one, lies beyond the page in the
// direction it was read (the newest when read after a cursor).
func trimKeysetPage[T any](rows []T, limit int, readAfter bool) ([]T, bool) {
	if len(rows) <= limit {
		return rows, false
	}
	if readAfter {
		return rows[len(rows)-limit:], true
	}
	return rows[:limit], true
}

// keysetNeighbours gives the cursors of the pages around a newest-first
// keyset page (0: none): a page read after a cursor always has an older
// one, a page read before a cursor always has a newer one, and more tells
// whether rows lie beyond the page in the direction it was read.
func keysetNeighbours(after, before int64, more bool, newest, oldest int64) (older, newer int64) {
	switch {
	case after > 0:
		older = oldest
		if more {
			newer = newest
		}
	case before > 0:
		newer = newest
		if more {
			older = oldest
		}
	default:
		if more {
			older = oldest
		}
	}
	return older, newer
}
