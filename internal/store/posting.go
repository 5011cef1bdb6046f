package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/ledger"
)

// Posting failure codes.
const (
	PostFailMissingMatch  = "MISSING_MATCH"
	PostFailLeaseInactive = "LEASE_INACTIVE"
	PostFailZeroAmount    = "ZERO_AMOUNT"
)

// PostingCounts is what a posting run (or one chunk of it) did.
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

func newPostingCounts() PostingCounts {
	return PostingCounts{Failed: map[string]int{PostFailMissingMatch: 0, PostFailLeaseInactive: 0, PostFailZeroAmount: 0}}
}

// Add adds the counts of one chunk to c.
func (c *PostingCounts) Add(o PostingCounts) {
	if c.Failed == nil {
		c.Failed = newPostingCounts().Failed
	}
	c.Candidates += o.Candidates
	c.Posted += o.Posted
	c.JournalsInserted += o.JournalsInserted
	c.EntriesInserted += o.EntriesInserted
	c.AmountCents += o.AmountCents
	c.Chunks += o.Chunks
	for k, n := range o.Failed {
		c.Failed[k] += n
	}
}

// DefaultPostChunk is how many tolls one posting transaction takes.
const DefaultPostChunk = 20000

// tollColumns selects a toll as ledger.Toll needs it from ezpass_transactions t.
const tollColumns = `t.id, t.posting_generation, t.txn_at, t.agency, coalesce(nullif(t.exit_plaza, ''), t.entry_plaza),
	CASE WHEN t.tag IS NOT NULL THEN t.tag WHEN t.plate IS NOT NULL THEN concat_ws(' ', nullif(t.plate_state, ''), t.plate)
		ELSE t.tag_or_plate END,
	t.amount_cents, coalesce(t.driver_id, 0), coalesce(t.lease_id, 0), coalesce(t.vehicle_id, 0), coalesce(t.medallion_id, 0)`

func scanToll(r pgx.Row, t *ledger.Toll) error {
	return r.Scan(&t.ID, &t.Generation, &t.TxnAt, &t.Agency, &t.Plaza, &t.PlateOrTag, &t.AmountCents, &t.DriverID, &t.LeaseID, &t.VehicleID, &t.MedallionID)
}

// postable is a locked associated toll with what posting's preconditions need.
type postable struct {
	toll        ledger.Toll
	leaseActive bool
	leaseRef    string
}

// code is the first failing precondition of posting p, or "".
func (p postable) code() string {
	switch {
	case p.toll.DriverID == 0 || p.toll.LeaseID == 0 || p.toll.MedallionID == 0:
		return PostFailMissingMatch
	case !p.leaseActive:
		return PostFailLeaseInactive
	case p.toll.AmountCents == 0:
		return PostFailZeroAmount
	}
	return ""
}

func (p postable) message() string {
	switch p.code() {
	case PostFailMissingMatch:
		return "Driver, lease or medallion is missing; assign a lease and a driver"
	case PostFailLeaseInactive:
		return "Lease " + p.leaseRef + " is no longer active; re-associate the toll"
	case PostFailZeroAmount:
		return "The amount is zero; there is nothing to post"
	}
	return ""
}

// PostChunk posts, within tx, at most limit associated tolls after id
// after, oldest id first: it locks them (skipping rows another run holds),
// checks the preconditions, writes the charge journals built by
// ledger.Charge set-based and sets every status. It returns the chunk's
// counts (Chunks is 1 when it found candidates) and the last id it took.
func PostChunk(ctx context.Context, tx pgx.Tx, actor string, after int64, limit int) (PostingCounts, int64, error) {
	c := newPostingCounts()
	rows, err := tx.Query(ctx, `
		SELECT `+tollColumns+`, coalesce(l.active, false), coalesce(l.ref, '#' || l.id::text, '')
		FROM ezpass_transactions t LEFT JOIN leases l ON l.id = t.lease_id
		WHERE t.status = 'associated' AND t.id > $1
		ORDER BY t.id LIMIT $2
		FOR UPDATE OF t SKIP LOCKED`, after, limit)
	if err != nil {
		return c, after, err
	}
	var ps []postable
	for rows.Next() {
		var p postable
		if err := rows.Scan(&p.toll.ID, &p.toll.Generation, &p.toll.TxnAt, &p.toll.Agency, &p.toll.Plaza, &p.toll.PlateOrTag, &p.toll.AmountCents,
			&p.toll.DriverID, &p.toll.LeaseID, &p.toll.VehicleID, &p.toll.MedallionID, &p.leaseActive, &p.leaseRef); err != nil {
			rows.Close()
			return c, after, err
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return c, after, err
	}
	if len(ps) == 0 {
		return c, after, nil
	}
	journals := make([]ledger.Journal, 0, len(ps))
	ids, codes, messages := make([]int64, len(ps)), make([]string, len(ps)), make([]string, len(ps))
	for i, p := range ps {
		ids[i], codes[i], messages[i] = p.toll.ID, p.code(), p.message()
		if codes[i] != "" {
			c.Failed[codes[i]]++
			continue
		}
		p.toll.CreatedBy = actor
		journals = append(journals, ledger.Charge(p.toll))
		c.AmountCents += p.toll.AmountCents
	}
	written, err := WriteJournals(ctx, tx, journals)
	if err != nil {
		return c, after, err
	}
	for _, w := range written {
		c.EntriesInserted += len(journals[w.Index].Entries)
	}
	tag, err := tx.Exec(ctx, `
		UPDATE ezpass_transactions t SET
			status = CASE WHEN x.code = '' THEN 'posted' ELSE 'posting_failed' END,
			failure_code = x.code, failure_message = x.message, failure_hint = '',
			posted_at = CASE WHEN x.code = '' THEN now() END,
			updated_at = now()
		FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x (id, code, message)
		WHERE t.id = x.id`, ids, codes, messages)
	if err != nil {
		return c, after, err
	}
	if int(tag.RowsAffected()) != len(ids) {
		return c, after, fmt.Errorf("posting: %d of %d locked tolls updated", tag.RowsAffected(), len(ids))
	}
	c.Chunks = 1
	c.Candidates = len(ps)
	c.JournalsInserted = len(written)
	c.Posted = len(journals)
	return c, ps[len(ps)-1].toll.ID, nil
}

// PostChunkFunc runs in a chunk's transaction after the chunk is written:
// chunk is what it did, total the run so far (chunk included).
type PostChunkFunc func(ctx context.Context, tx pgx.Tx, chunk, total PostingCounts) error

// PostEach posts every associated toll and credit, chunk rows per
// transaction (0: DefaultPostChunk), calling each in every chunk's
// transaction (its audit event, its progress). Posting twice inserts
// nothing: the ledger's unique key decides.
func PostEach(ctx context.Context, pool *pgxpool.Pool, actor string, chunk int, each PostChunkFunc) (PostingCounts, error) {
	if chunk <= 0 {
		chunk = DefaultPostChunk
	}
	total := newPostingCounts()
	var after int64
	for {
		var c PostingCounts
		var last int64
		err := InTx(ctx, pool, func(tx pgx.Tx) error {
			var err error
			if c, last, err = PostChunk(ctx, tx, actor, after, chunk); err != nil || c.Candidates == 0 {
				return err
			}
			run := newPostingCounts()
			run.Add(total)
			run.Add(c)
			if each != nil {
				return each(ctx, tx, c, run)
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("post tolls after id %d: %w", after, err)
		}
		if c.Candidates == 0 {
			return total, nil
		}
		total.Add(c)
		after = last
	}
}

// AuditPostChunk writes the audit event of one posting chunk in its
// transaction: the chunk's counts, the run's so far and what asked for it.
func AuditPostChunk(ctx context.Context, tx pgx.Tx, actor, trigger string, chunk, total PostingCounts) error {
	return Audit(ctx, tx, actor, "ezpass.post", "ezpass", "posting", nil,
		map[string]any{"counts": chunk, "run": total, "trigger": trigger}, "")
}

// Post posts every associated toll and credit (see PostEach), writing an
// audit event per chunk in that chunk's transaction.
func Post(ctx context.Context, pool *pgxpool.Pool, actor string, chunk int) (PostingCounts, error) {
	return PostEach(ctx, pool, actor, chunk, func(ctx context.Context, tx pgx.Tx, c, total PostingCounts) error {
		return AuditPostChunk(ctx, tx, actor, "", c, total)
	})
}

// AnalyzeTolls refreshes the planner's statistics of the tolls after a bulk
// change of their statuses (autovacuum may be off or late), so the next
// statements (posting right after association) plan on today's numbers.
// It may run inside the transaction that made the change.
func AnalyzeTolls(ctx context.Context, db DBTX) (time.Duration, error) {
	began := time.Now()
	_, err := db.Exec(ctx, `ANALYZE ezpass_transactions`)
	return time.Since(began), err
}

// AnalyzeTollsIfStale runs AnalyzeTolls when the tolls were never analyzed
// or their table has grown by more than a fifth (and 100 pages) since the
// statistics were taken: the file size is current, where the cumulative
// statistics counters may lag behind the last commit. It reports whether
// it analyzed.
func AnalyzeTollsIfStale(ctx context.Context, db DBTX) (bool, error) {
	var stale bool
	if err := db.QueryRow(ctx, `SELECT reltuples < 0
			OR pg_relation_size(oid) / current_setting('block_size')::bigint > relpages * 1.2 + 100
		FROM pg_class WHERE oid = 'ezpass_transactions'::regclass`).Scan(&stale); err != nil || !stale {
		return false, err
	}
	_, err := AnalyzeTolls(ctx, db)
	return err == nil, err
}

// PostingProgress returns the counts so far of the posting run that began
// at since: the run total of the latest chunk audited since then.
func PostingProgress(ctx context.Context, db DBTX, since time.Time) (PostingCounts, bool, error) {
	var c PostingCounts
	err := db.QueryRow(ctx, `SELECT after->'run' FROM audit_events
		WHERE subject_type = 'ezpass' AND subject_id = 'posting' AND at >= $1 AND after ? 'run'
		ORDER BY at DESC, id DESC LIMIT 1`, since).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}
