package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Posting failure codes.
const (
	PostFailMissingMatch  = "MISSING_MATCH"
	PostFailLeaseInactive = "LEASE_INACTIVE"
	PostFailZeroAmount    = "ZERO_AMOUNT"
)

// PostingCounts is what a posting run did.
type PostingCounts struct {
	Candidates int `json:"candidates"`
	// Posted is the number of tolls now posted; JournalsInserted the charge
	// journals written (a toll whose charge already existed is marked posted
	// without a new journal).
	Posted           int            `json:"posted"`
	JournalsInserted int            `json:"journals_inserted"`
	EntriesInserted  int            `json:"entries_inserted"`
	AmountCents      int64          `json:"amount_cents"`
	Failed           map[string]int `json:"failed"`
	Chunks           int            `json:"chunks"`
}

// DefaultPostChunk is how many tolls one posting transaction takes.
const DefaultPostChunk = 20000

// chargeCTE builds the charge journals and entries of the rows of CTE e
// (columns id, posting_generation, txn_at, amount_cents, driver_id,
// lease_id, vehicle_id, medallion_id, description, code) whose code is ”.
// It is the SQL form of ledger.Charge: debit driver:{id}, credit
// clearing:ezpass; unique (EZPASS, id, charge, generation) makes it idempotent.
const chargeCTE = `
j AS (
	INSERT INTO ledger_journals (source_type, source_id, kind, generation, txn_at, description, created_by)
	SELECT 'EZPASS', e.id::text, 'charge', e.posting_generation, e.txn_at, e.description, $1
	FROM e WHERE e.code = ''
	ON CONFLICT (source_type, source_id, kind, generation) DO NOTHING
	RETURNING id, source_id
),
en AS (
	INSERT INTO ledger_entries (journal_id, account, amount_cents, driver_id, lease_id, vehicle_id, medallion_id)
	SELECT j.id, x.account, x.amount, e.driver_id, e.lease_id, e.vehicle_id, e.medallion_id
	FROM j JOIN e ON e.id::text = j.source_id
	CROSS JOIN LATERAL (VALUES ('driver:' || e.driver_id, e.amount_cents), ('clearing:ezpass', -e.amount_cents)) x (account, amount)
	RETURNING 1
)`

// tollColumns selects what chargeCTE needs from ezpass_transactions t.
const tollColumns = `t.id, t.posting_generation, t.txn_at, t.amount_cents, t.driver_id, t.lease_id, t.vehicle_id, t.medallion_id,
	'EZPass toll - ' || t.agency || ' - ' || coalesce(nullif(t.exit_plaza, ''), t.entry_plaza) || ' - ' ||
		CASE WHEN t.tag IS NOT NULL THEN t.tag WHEN t.plate IS NOT NULL THEN concat_ws(' ', nullif(t.plate_state, ''), t.plate)
		ELSE t.tag_or_plate END AS description`

// postChunkSQL posts one chunk of associated tolls after id $2 (at most $3):
// checks the preconditions, writes journals and entries, and sets the
// status in the same statement. Locked rows are skipped (another run has them).
const postChunkSQL = `
WITH e AS MATERIALIZED (
	SELECT ` + tollColumns + `,
		CASE WHEN t.driver_id IS NULL OR t.lease_id IS NULL OR t.medallion_id IS NULL THEN 'MISSING_MATCH'
			WHEN NOT EXISTS (SELECT 1 FROM leases l WHERE l.id = t.lease_id AND l.active) THEN 'LEASE_INACTIVE'
			WHEN t.amount_cents = 0 THEN 'ZERO_AMOUNT' ELSE '' END AS code,
		(SELECT coalesce(l.ref, '#' || l.id) FROM leases l WHERE l.id = t.lease_id) AS lease_ref
	FROM ezpass_transactions t
	WHERE t.status = 'associated' AND t.id > $2
	ORDER BY t.id LIMIT $3
	FOR UPDATE OF t SKIP LOCKED
),` + chargeCTE + `,
u AS (
	UPDATE ezpass_transactions t SET
		status = CASE WHEN e.code = '' THEN 'posted' ELSE 'posting_failed' END,
		failure_code = e.code,
		failure_message = CASE e.code
			WHEN 'MISSING_MATCH' THEN 'Driver, lease or medallion is missing; assign a lease and a driver'
			WHEN 'LEASE_INACTIVE' THEN 'Lease ' || e.lease_ref || ' is no longer active; re-associate the toll'
			WHEN 'ZERO_AMOUNT' THEN 'The amount is zero; there is nothing to post'
			ELSE '' END,
		failure_hint = '',
		posted_at = CASE WHEN e.code = '' THEN now() END,
		updated_at = now()
	FROM e WHERE t.id = e.id
	RETURNING t.status
)
SELECT (SELECT count(*) FROM e), coalesce((SELECT max(id) FROM e), 0),
	(SELECT count(*) FROM j), (SELECT count(*) FROM en),
	(SELECT count(*) FROM u WHERE status = 'posted'),
	(SELECT coalesce(sum(amount_cents), 0) FROM e WHERE code = ''),
	(SELECT count(*) FROM e WHERE code = 'MISSING_MATCH'),
	(SELECT count(*) FROM e WHERE code = 'LEASE_INACTIVE'),
	(SELECT count(*) FROM e WHERE code = 'ZERO_AMOUNT')`

// Post posts every associated toll and credit, chunk rows per transaction
// (0: DefaultPostChunk). Posting twice inserts nothing: the ledger's unique
// key and ON CONFLICT DO NOTHING decide.
func Post(ctx context.Context, pool *pgxpool.Pool, actor string, chunk int) (PostingCounts, error) {
	if chunk <= 0 {
		chunk = DefaultPostChunk
	}
	total := PostingCounts{Failed: map[string]int{PostFailMissingMatch: 0, PostFailLeaseInactive: 0, PostFailZeroAmount: 0}}
	var after int64
	for {
		var n, journals, entries, posted, missing, inactive, zero int
		var last, amount int64
		err := InTx(ctx, pool, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, postChunkSQL, actor, after, chunk).
				Scan(&n, &last, &journals, &entries, &posted, &amount, &missing, &inactive, &zero)
		})
		if err != nil {
			return total, fmt.Errorf("post tolls after id %d: %w", after, err)
		}
		if n == 0 {
			return total, nil
		}
		total.Chunks++
		total.Candidates += n
		total.JournalsInserted += journals
		total.EntriesInserted += entries
		total.Posted += posted
		total.AmountCents += amount
		total.Failed[PostFailMissingMatch] += missing
		total.Failed[PostFailLeaseInactive] += inactive
		total.Failed[PostFailZeroAmount] += zero
		after = last
	}
}
