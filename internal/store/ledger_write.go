package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/ledger"
)

// WrittenJournal is a journal WriteJournals inserted: its database id and
// its position in the slice it was given.
type WrittenJournal struct {
	ID    int64
	Index int
}

// WriteJournals inserts the journals built by the pure ledger rules and
// their entries, set-based: one INSERT of every journal (a journal whose
// (source type, source id, kind, generation) already exists is skipped,
// and so are its entries) and one COPY of the entries of those inserted.
// Each journal is checked with ledger.Balanced first; the database checks
// it again at commit.
func WriteJournals(ctx context.Context, tx pgx.Tx, js []ledger.Journal) ([]WrittenJournal, error) {
	if len(js) == 0 {
		return nil, nil
	}
	n := len(js)
	var (
		types, ids, kinds, descs, by = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		gens                         = make([]int32, n)
		ats                          = make([]any, n)
		revs                         = make([]int64, n)
	)
	for i, j := range js {
		if err := ledger.Balanced(j); err != nil {
			return nil, err
		}
		types[i], ids[i], kinds[i], gens[i], ats[i], descs[i], by[i], revs[i] = j.SourceType, j.SourceID, j.Kind, int32(j.Generation), j.TxnAt, j.Description, j.CreatedBy, j.ReversalOf
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO ledger_journals (source_type, source_id, kind, generation, txn_at, description, created_by, reversal_of)
		SELECT x.source_type, x.source_id, x.kind, x.generation, x.txn_at, x.description, x.created_by, nullif(x.reversal_of, 0)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::text[], $7::text[], $8::bigint[])
			AS x (source_type, source_id, kind, generation, txn_at, description, created_by, reversal_of)
		ON CONFLICT (source_type, source_id, kind, generation) DO NOTHING
		RETURNING id, source_type, source_id, kind, generation`, types, ids, kinds, gens, ats, descs, by, revs)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, n)
	key := func(t, id, kind string, gen int) string {
		return t + "\x00" + id + "\x00" + kind + "\x00" + strconv.Itoa(gen)
	}
	for i, j := range js {
		index[key(j.SourceType, j.SourceID, j.Kind, j.Generation)] = i
	}
	var written []WrittenJournal
	for rows.Next() {
		var id int64
		var t, sid, kind string
		var gen int
		if err := rows.Scan(&id, &t, &sid, &kind, &gen); err != nil {
			rows.Close()
			return nil, err
		}
		i, ok := index[key(t, sid, kind, gen)]
		if !ok {
			rows.Close()
			return nil, fmt.Errorf("ledger: inserted journal %s/%s %s #%d was not asked for", t, sid, kind, gen)
		}
		written = append(written, WrittenJournal{ID: id, Index: i})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	entries := make([][]any, 0, 2*len(written))
	for _, w := range written {
		for _, e := range js[w.Index].Entries {
			entries = append(entries, []any{w.ID, e.Account, e.AmountCents, nullID(e.DriverID), nullID(e.LeaseID), nullID(e.VehicleID), nullID(e.MedallionID)})
		}
	}
	if len(entries) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_entries"},
			[]string{"journal_id", "account", "amount_cents", "driver_id", "lease_id", "vehicle_id", "medallion_id"}, pgx.CopyFromRows(entries)); err != nil {
			return nil, err
		}
	}
	return written, nil
}

// nullID is NULL for a zero id.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CurrentCharges returns, for each posted toll of ids, its current charge
// journal (the generation the toll is at) with its entries, as the ledger
// rules describe it, keyed by toll id, and the journals' database ids.
func CurrentCharges(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]ledger.Journal, map[int64]int64, error) {
	rows, err := tx.Query(ctx, `
		SELECT t.id, j.id, j.source_type, j.source_id, j.kind, j.generation, j.txn_at, j.description, j.created_by,
			e.account, e.amount_cents, coalesce(e.driver_id, 0), coalesce(e.lease_id, 0), coalesce(e.vehicle_id, 0), coalesce(e.medallion_id, 0)
		FROM ezpass_transactions t
		JOIN ledger_journals j ON j.toll_id = t.id AND j.kind = 'charge' AND j.generation = t.posting_generation
		JOIN ledger_entries e ON e.journal_id = j.id
		WHERE t.id = ANY($1)
		ORDER BY t.id, e.id`, ids)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	js, jids := map[int64]ledger.Journal{}, map[int64]int64{}
	for rows.Next() {
		var toll, jid int64
		var j ledger.Journal
		var e ledger.Entry
		if err := rows.Scan(&toll, &jid, &j.SourceType, &j.SourceID, &j.Kind, &j.Generation, &j.TxnAt, &j.Description, &j.CreatedBy,
			&e.Account, &e.AmountCents, &e.DriverID, &e.LeaseID, &e.VehicleID, &e.MedallionID); err != nil {
			return nil, nil, err
		}
		if cur, ok := js[toll]; ok {
			j = cur
		}
		j.Entries = append(j.Entries, e)
		js[toll], jids[toll] = j, jid
	}
	return js, jids, rows.Err()
}
