package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/ezpass"
)

// DefaultProgressEvery is how many rows an import reads into one chunk: it
// COPYs and applies a chunk at a time, and publishes its progress after
// each.
const DefaultProgressEvery = 5000

// DefaultMaxRowErrors is how many unreadable rows stop an import: a file
// with that many is not an E-ZPass export.
const DefaultMaxRowErrors = 1000

// ImportOptions tunes RunEZPassImport; the zero value uses the defaults.
type ImportOptions struct {
	// Exclusions are the exclusion rules; nil means ezpass.DefaultExclusions().
	Exclusions []ezpass.ExclusionRule
	// MaxXLSXUnzipBytes caps how far a workbook may unpack; 0 means the parser's default (1 GiB).
	MaxXLSXUnzipBytes int64
	// TempDir receives the file while it is read; empty means the system default.
	TempDir string
	// ProgressEvery is the number of rows of a chunk (one COPY and apply
	// step, then a progress update); 0 means DefaultProgressEvery.
	ProgressEvery int
	// MaxRowErrors stops an import at this many row errors (failed, nothing
	// applied); 0 means DefaultMaxRowErrors.
	MaxRowErrors int
	// Finish runs in the final transaction once the import row holds its
	// outcome (enqueue association there, so that it happens exactly when
	// the rows become visible).
	Finish func(ctx context.Context, tx pgx.Tx, imp EZPassImport) error
}

// importLockSQL serialises the imports of one account until the transaction ends.
const importLockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('ezpass.import:' || $1, 0))`

// RunEZPassImport loads a queued import: it waits for the account's import
// lock, reads the stored file with the streaming parser and, in chunks of
// rows while the parser reads the next ones (see runChunks), COPYs every
// row (good or bad) into a temporary staging table, applies the dedupe and
// conflict rules to it in one set-based statement and publishes progress;
// then it stores the final counters and status, audits and calls
// opts.Finish — all in one transaction, so an interrupted run leaves
// nothing behind and can simply run again. An import that already finished
// is returned unchanged. An unreadable file is not an error: the import
// ends as failed with the parser's message.
func RunEZPassImport(ctx context.Context, pool *pgxpool.Pool, importID int64, opts ImportOptions) (EZPassImport, error) {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = DefaultProgressEvery
	}
	if opts.MaxRowErrors <= 0 {
		opts.MaxRowErrors = DefaultMaxRowErrors
	}
	imp, err := EZPassImportByID(ctx, pool, importID)
	if err != nil {
		return imp, err
	}
	if !imp.Active() {
		return imp, nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return imp, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, importLockSQL, imp.Account); err != nil {
		return imp, err
	}
	// Another run may have finished it while this one waited for the lock.
	if imp, err = EZPassImportByID(ctx, tx, importID); err != nil || !imp.Active() {
		return imp, err
	}
	before := map[string]any{"status": imp.Status}
	// 'running' is published outside the transaction (so that the page
	// shows progress); a run that fails puts the import back to queued for
	// its retry. A process that dies leaves it running with the account's
	// lock released: FailStrandedEZPassImports ends it.
	committed := false
	defer func() {
		if !committed {
			_, _ = pool.Exec(context.WithoutCancel(ctx), `UPDATE ezpass_imports SET status = 'queued', message = ''
				WHERE id = $1 AND status = 'running'`, importID)
		}
	}()
	if _, err := pool.Exec(ctx, `UPDATE ezpass_imports SET status = 'running', started_at = clock_timestamp(), finished_at = NULL,
		message = 'Reading the file…', format = '', rows_read = 0, inserted = 0, duplicates = 0, conflicts = 0, errors = 0,
		tolls = 0, credits = 0, payments = 0, tag_fees = 0, excluded = 0, bytes_read = 0, bytes_total = 0 WHERE id = $1`, importID); err != nil {
		return imp, err
	}

	res, err := loadImport(ctx, pool, tx, imp, opts)
	if err != nil {
		return imp, err
	}
	final, err := finishImport(ctx, tx, imp, res)
	if err != nil {
		return imp, err
	}
	reason := "import finished"
	if res.fileErr != "" {
		reason = "the file could not be read"
	}
	if err := Audit(ctx, tx, imp.CreatedBy, "ezpass.import", "ezpass_import", strconv.FormatInt(imp.ID, 10), before, final.Summary(), reason); err != nil {
		return imp, err
	}
	if opts.Finish != nil {
		if err := opts.Finish(ctx, tx, final); err != nil {
			return imp, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return imp, err
	}
	committed = true
	return final, nil
}

// importResult is what loading found.
type importResult struct {
	format   string
	fileErr  string // the file could not be read: why, for people
	read     int
	errors   int
	kinds    map[string]int
	inserted int
	conflict int
}

// loadImport reads the file into the staging table and applies the rules.
func loadImport(ctx context.Context, pool *pgxpool.Pool, tx pgx.Tx, imp EZPassImport, opts ImportOptions) (importResult, error) {
	res := importResult{kinds: map[string]int{}}
	loc, err := time.LoadLocation(imp.TimeZone)
	if err != nil {
		res.fileErr = fmt.Sprintf("The time zone %q of this import is unknown to this server (is tzdata installed?).", imp.TimeZone)
		return res, nil
	}
	f, err := os.CreateTemp(opts.TempDir, "ezpass-import-*")
	if err != nil {
		return res, err
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	if _, err := CopyEZPassImportFile(ctx, tx, imp, f); err != nil {
		return res, err
	}
	rd, err := ezpass.Open(f, imp.SizeBytes, imp.FileName, ezpass.Options{
		Location: loc, Exclusions: opts.Exclusions, MaxXLSXUnzipBytes: opts.MaxXLSXUnzipBytes, TempDir: opts.TempDir,
	})
	if err != nil {
		var fe *ezpass.FileError
		var fme *ezpass.FormatError
		if errors.As(err, &fe) || errors.As(err, &fme) {
			res.fileErr = err.Error()
			return res, nil
		}
		return res, err
	}
	defer rd.Close()
	res.format = string(rd.Format())

	if _, err := tx.Exec(ctx, stagingSQL); err != nil {
		return res, err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return res, err
	}
	ld := &chunkLoader{tx: tx, pool: pool, imp: imp, format: res.format, maxErrors: opts.MaxRowErrors, res: &res}
	st := &stager{rd: rd, chunkRows: opts.ProgressEvery, maxErrors: opts.MaxRowErrors}
	if err := runChunks(ctx, st, ld); err != nil {
		return res, err
	}
	res.read, res.errors = st.read, st.errors
	if st.fileErr != nil {
		// The file stopped being readable: nothing of it is applied.
		res.fileErr = st.fileErr.Error()
		return res, nil
	}
	if st.errors >= st.maxErrors {
		// Too many unreadable rows: keep them for diagnosis, apply nothing.
		res.fileErr = fmt.Sprintf("The import stopped after %d rows that could not be read (at line %d): "+
			"this file is probably not an E-ZPass export. Nothing was imported; see the row errors below, "+
			"then export the transaction report from the E-ZPass account and upload it.", st.errors, st.lastLine)
		return res, storeRowErrors(ctx, tx, imp.ID)
	}
	if _, err := pool.Exec(ctx, `UPDATE ezpass_imports SET rows_read = $2, errors = $3, format = $4,
		message = 'Storing the transactions…' WHERE id = $1`, imp.ID, res.read, res.errors, res.format); err != nil {
		return res, err
	}
	// Statistics of the staged rows, so that the planner joins them to the
	// stored transactions by index or hash rather than by nested loops.
	if _, err := tx.Exec(ctx, `ANALYZE ezpass_staging`); err != nil {
		return res, err
	}
	if err := ld.apply(ctx); err != nil {
		return res, err
	}
	if res.errors > 0 {
		return res, storeRowErrors(ctx, tx, imp.ID)
	}
	return res, nil
}

// storeRowErrors copies the staged row errors to the import's errors.
func storeRowErrors(ctx context.Context, tx pgx.Tx, importID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO ezpass_import_errors (import_id, line, column_name, value, message)
		SELECT $1, line, coalesce(err_column, ''), coalesce(err_value, ''), err_message
		FROM ezpass_staging WHERE err_message IS NOT NULL ORDER BY n`, importID)
	return err
}

// finishImport writes the outcome to the import row.
func finishImport(ctx context.Context, tx pgx.Tx, imp EZPassImport, res importResult) (EZPassImport, error) {
	valid := 0
	for _, n := range res.kinds {
		valid += n
	}
	status, msg := ImportSucceeded, ""
	switch {
	case res.fileErr != "":
		status, msg = ImportFailed, res.fileErr
	case valid == 0 && res.errors > 0:
		status = ImportFailed
		msg = fmt.Sprintf("None of the %d rows could be read, so nothing was imported. "+
			"See the row errors below, correct the export (or export it again) and upload it.", res.errors)
	case res.errors > 0:
		status = ImportPartial
		msg = fmt.Sprintf("%d of %d rows could not be read; the other rows were imported. "+
			"See the row errors below; correct those rows and upload them in a new file.", res.errors, res.read)
	case valid == 0:
		msg = "The file has a header but no transactions."
	}
	duplicates := 0
	if res.fileErr == "" {
		duplicates = valid - res.inserted - res.conflict
	}
	_, err := tx.Exec(ctx, `UPDATE ezpass_imports SET status = $2, message = $3, format = $4, finished_at = clock_timestamp(),
		started_at = coalesce(started_at, clock_timestamp()), rows_read = $5, inserted = $6, duplicates = $7, conflicts = $8,
		errors = $9, tolls = $10, credits = $11, payments = $12, tag_fees = $13, excluded = $14 WHERE id = $1`,
		imp.ID, status, msg, res.format, res.read, res.inserted, duplicates, res.conflict, res.errors,
		res.kinds["toll"], res.kinds["credit"], res.kinds["payment"], res.kinds["tag_fee"], res.kinds["excluded"])
	if err != nil {
		return imp, err
	}
	return EZPassImportByID(ctx, tx, imp.ID)
}

// stagingSQL is the per-run staging table: every row read, good (parsed
// values) or bad (err_* set), in file order (n).
const stagingSQL = `CREATE TEMP TABLE ezpass_staging (
	n bigint, line int, dedupe_key text, lane_txn_id text, row_hash text, kind text, excluded_reason text,
	tag_or_plate text, tag text, plate_state text, plate text, agency text, entry_plaza text, exit_plaza text,
	vehicle_class text, txn_at timestamptz, posted_on date, amount_cents bigint, raw text,
	err_column text, err_value text, err_message text
) ON COMMIT DROP`

var stagingCols = []string{"n", "line", "dedupe_key", "lane_txn_id", "row_hash", "kind", "excluded_reason",
	"tag_or_plate", "tag", "plate_state", "plate", "agency", "entry_plaza", "exit_plaza",
	"vehicle_class", "txn_at", "posted_on", "amount_cents", "raw", "err_column", "err_value", "err_message"}

// applySQL stores the staged rows in one statement. For each good row:
//   - the first row of a key (Lane Txn ID, else fingerprint) not stored yet
//     for the account is inserted (status imported for tolls and credits,
//     excluded for the other kinds);
//   - a row whose key is stored (or first seen earlier in the file) with
//     different data (row_hash) is inserted once as a conflict pointing to
//     that original, which is never touched;
//   - anything else (same key and data, stored or earlier in the file) is a
//     duplicate and adds nothing.
//
// A key is looked up in every account: a Lane Txn ID (or fingerprint) of
// the same agency already stored under another account label is the same
// toll, so it is a duplicate (same data) or a conflict pointing to that
// first row, and is never stored as a new postable toll. The own account's
// row wins when both exist. (The row hash covers key and agency, so an
// identical row is a duplicate whatever the account.)
//
// The stored rows are probed through their indexes (correlated
// look-ups, immune to stale statistics of a table that just grew by a
// million rows): the original by the unique key (dedupe_key, account)
// WHERE conflict_of IS NULL, the same data by the unique key (dedupe_key,
// row_hash, account) — both led by the key, so each probe reads a few
// pages whatever the table's size (when the key was led by the account,
// the original's look-up walked the whole index for every row).
// Both look-ups are scalar sub-selects with LIMIT 1, never an EXISTS that
// the planner may turn into a semi-join reading the whole stored table (a
// small file against a million stored tolls). The classification runs
// over narrow columns (so that the window's sort and the materialised
// CTEs stay small); the wide rows are read from the staging table only
// by the inserts. It returns, per kind, the good rows
// read, inserted originals and conflicts.
var applySQL = `
WITH w AS MATERIALIZED (
	SELECT n, dedupe_key, row_hash, agency, n = min(n) OVER (PARTITION BY dedupe_key) AS first_of_key,
		row_number() OVER (PARTITION BY dedupe_key, row_hash ORDER BY n) AS rn
	FROM ezpass_staging WHERE err_message IS NULL
),
c AS MATERIALIZED (
	SELECT w.n, w.dedupe_key, w.first_of_key,
		(SELECT o.id FROM ezpass_transactions o
			WHERE o.dedupe_key = w.dedupe_key AND o.conflict_of IS NULL
				AND (o.account = $1 OR ` + foldSQL("o.agency") + ` = ` + foldSQL("w.agency") + `)
			ORDER BY o.account = $1 DESC, o.id LIMIT 1) AS orig_id,
		coalesce((SELECT true FROM ezpass_transactions x
			WHERE x.dedupe_key = w.dedupe_key AND x.row_hash = w.row_hash LIMIT 1), false) AS seen
	FROM w
	WHERE w.rn = 1
),
orig AS (
	INSERT INTO ezpass_transactions (account, dedupe_key, lane_txn_id, row_hash, import_id, line, kind, excluded_reason,
		tag_or_plate, tag, plate_state, plate, agency, entry_plaza, exit_plaza, vehicle_class, txn_at, posted_on,
		amount_cents, raw, status)
	SELECT $1, s.dedupe_key, s.lane_txn_id, s.row_hash, $2, s.line, s.kind, s.excluded_reason,
		s.tag_or_plate, s.tag, s.plate_state, s.plate, s.agency, s.entry_plaza, s.exit_plaza, s.vehicle_class, s.txn_at,
		s.posted_on, s.amount_cents, s.raw::jsonb,
		CASE WHEN s.kind IN ('toll', 'credit') THEN 'imported' ELSE 'excluded' END
	FROM c JOIN ezpass_staging s ON s.n = c.n
	WHERE c.orig_id IS NULL AND c.first_of_key
	ON CONFLICT DO NOTHING
	RETURNING id, dedupe_key, kind
),
conf AS (
	INSERT INTO ezpass_transactions (account, dedupe_key, lane_txn_id, row_hash, import_id, line, kind, excluded_reason,
		tag_or_plate, tag, plate_state, plate, agency, entry_plaza, exit_plaza, vehicle_class, txn_at, posted_on,
		amount_cents, raw, status, conflict_of)
	SELECT $1, s.dedupe_key, s.lane_txn_id, s.row_hash, $2, s.line, s.kind, s.excluded_reason,
		s.tag_or_plate, s.tag, s.plate_state, s.plate, s.agency, s.entry_plaza, s.exit_plaza, s.vehicle_class, s.txn_at,
		s.posted_on, s.amount_cents, s.raw::jsonb, 'conflict', coalesce(c.orig_id, orig.id)
	FROM c JOIN ezpass_staging s ON s.n = c.n
	LEFT JOIN orig ON c.orig_id IS NULL AND orig.dedupe_key = c.dedupe_key
	WHERE NOT c.seen AND NOT (c.orig_id IS NULL AND c.first_of_key) AND coalesce(c.orig_id, orig.id) IS NOT NULL
	ON CONFLICT DO NOTHING
	RETURNING kind
)
SELECT kind, sum(valid)::int, sum(ins)::int, sum(conf)::int FROM (
	SELECT kind, count(*) AS valid, 0 AS ins, 0 AS conf FROM ezpass_staging WHERE err_message IS NULL GROUP BY kind
	UNION ALL SELECT kind, 0, count(*), 0 FROM orig GROUP BY kind
	UNION ALL SELECT kind, 0, 0, count(*) FROM conf GROUP BY kind
) t GROUP BY kind`

// foldSQL folds a name column as foldName does (case and runs of spaces).
func foldSQL(col string) string {
	return `upper(regexp_replace(btrim(` + col + `), '\s+', ' ', 'g'))`
}

// stagedChunk is a run of parsed rows on its way to the staging table.
type stagedChunk struct {
	rows   [][]any // staging values, one slice of flat per row
	flat   []any
	errors int // row errors among rows
	// Through the end of this chunk:
	read, errorsTotal, lastLine int
	bytesRead, bytesTotal       int64
	// stop: the import fails (a final file error or too many row errors);
	// the chunk's good rows are not applied. fileErr: the file became
	// unreadable (its row errors are not kept either).
	stop, fileErr bool
}

func newStagedChunk(rows int) *stagedChunk {
	return &stagedChunk{rows: make([][]any, 0, rows), flat: make([]any, rows*len(stagingCols))}
}

// next returns the values of one more row, to be filled in full.
func (c *stagedChunk) next() []any {
	w := len(stagingCols)
	i := len(c.rows)
	vals := c.flat[i*w : (i+1)*w : (i+1)*w]
	c.rows = append(c.rows, vals)
	return vals
}

// stager turns the parser's rows into staging values, a chunk at a time
// (it runs on its own goroutine, the only one using rd).
type stager struct {
	rd        *ezpass.Reader
	chunkRows int
	maxErrors int

	n        int64
	read     int
	errors   int
	lastLine int
	fileErr  error // the file stopped being readable part-way

	buf, hashBuf []byte // reused for each row's JSON and hash input
}

// fill reads rows into c until it holds chunkRows, the file ends, it
// becomes unreadable, the row errors reach the cap or ctx ends; more is
// whether reading goes on.
func (s *stager) fill(ctx context.Context, c *stagedChunk) (more bool) {
	c.rows, c.errors, c.stop, c.fileErr = c.rows[:0], 0, false, false
	more = true
	for len(c.rows) < s.chunkRows {
		if s.errors >= s.maxErrors {
			c.stop, more = true, false
			break
		}
		if s.read%1024 == 0 && ctx.Err() != nil {
			more = false
			break
		}
		row, err := s.rd.Next()
		if errors.Is(err, io.EOF) {
			more = false
			break
		}
		var rowErr *ezpass.RowError
		switch {
		case errors.As(err, &rowErr):
			s.errors++
			c.errors++
			s.errorValues(c.next(), row, rowErr)
			s.lastLine = rowErr.Line
		case err != nil:
			s.fileErr = err
			c.stop, c.fileErr, more = true, true, false
		default:
			s.rowValues(c.next(), row)
		}
		if err != nil && rowErr == nil {
			break
		}
		s.read++
	}
	if s.errors >= s.maxErrors {
		c.stop, more = true, false
	}
	c.read, c.errorsTotal, c.lastLine = s.read, s.errors, s.lastLine
	c.bytesRead, c.bytesTotal = s.rd.Progress()
	return more
}

func (s *stager) errorValues(vals []any, row ezpass.Row, e *ezpass.RowError) {
	s.n++
	line := e.Line
	if line == 0 {
		line = row.Line
	}
	clear(vals)
	vals[0], vals[1] = s.n, line
	vals[19], vals[20], vals[21] = e.Column, e.Value, e.Message
}

func (s *stager) rowValues(vals []any, r ezpass.Row) {
	s.n++
	if s.hashBuf == nil {
		s.hashBuf = make([]byte, 0, 512)
	}
	key := r.LaneTxnID
	var lane any
	if key != "" {
		lane = key
	} else {
		key = "fp:" + r.Fingerprint()
	}
	exit := r.ExitPlaza
	if exit == "" {
		exit = r.Plaza
	}
	s.buf = r.Raw.AppendJSON(s.buf[:0])
	var postedOn any
	if !r.PostedOn.IsZero() {
		postedOn = r.PostedOn
	}
	vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6] = s.n, r.Line, key, lane, rowHash(s.hashBuf[:0], r, key), string(r.Kind), r.ExcludedReason
	vals[7], vals[8], vals[9], vals[10], vals[11], vals[12], vals[13] = r.TagOrPlate, nullText(r.Tag), nullText(r.PlateState), nullText(r.Plate), r.Agency, r.EntryPlaza, exit
	vals[14], vals[15], vals[16], vals[17], vals[18] = r.Class, r.TxnAt, postedOn, r.AmountCents, string(s.buf)
	vals[19], vals[20], vals[21] = nil, nil, nil
}

// chunkDepth is how many chunks exist at once: one being parsed, one
// waiting, one being stored. Memory stays at chunkDepth chunks of rows
// whatever the file's size.
const chunkDepth = 3

// runChunks is the import's pipeline: the parser fills chunks of rows on
// its own goroutine while ld COPYs the previous ones into staging (the
// set-based apply follows once all are staged), so that they overlap.
// The chunks circulate through two bounded channels (chunkDepth in all).
// The first error of ld cancels the parser; a panic while parsing is an
// error; runChunks returns only once the parser's goroutine has ended.
func runChunks(ctx context.Context, st *stager, ld *chunkLoader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *stagedChunk, chunkDepth)
	full := make(chan *stagedChunk, chunkDepth)
	for range chunkDepth {
		free <- newStagedChunk(st.chunkRows)
	}
	var parseErr error
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		defer close(full)
		defer func() {
			if p := recover(); p != nil {
				parseErr = fmt.Errorf("ezpass import: parser panic: %v", p)
			}
		}()
		for {
			var c *stagedChunk
			select {
			case c = <-free:
			case <-ctx.Done():
				return
			}
			more := st.fill(ctx, c)
			select {
			case full <- c:
			case <-ctx.Done():
				return
			}
			if !more {
				return
			}
		}
	}()
	var err error
	for c := range full {
		if err == nil && ctx.Err() == nil {
			if err = ld.store(ctx, c); err != nil {
				cancel()
			}
		}
		free <- c // never blocks: at most chunkDepth chunks exist
	}
	<-parsed
	if err == nil {
		err = parseErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// chunkLoader stores chunks of staged rows in the import's transaction and
// publishes the import's progress after each.
type chunkLoader struct {
	tx        pgx.Tx
	pool      *pgxpool.Pool
	imp       EZPassImport
	format    string
	maxErrors int
	res       *importResult
	analyzed  bool
}

// store COPYs a chunk into the staging table (the rules are applied once
// every row is staged: applying chunk by chunk made each chunk's probes of
// the growing table slower) and publishes the import's progress.
func (l *chunkLoader) store(ctx context.Context, c *stagedChunk) error {
	if len(c.rows) > 0 && !c.fileErr {
		if _, err := l.tx.CopyFrom(ctx, pgx.Identifier{"ezpass_staging"}, stagingCols, pgx.CopyFromRows(c.rows)); err != nil {
			return err
		}
	}
	if c.stop {
		return nil
	}
	_, err := l.pool.Exec(ctx, `UPDATE ezpass_imports SET rows_read = $2, errors = $3, format = $4,
		bytes_read = $5, bytes_total = $6 WHERE id = $1`,
		l.imp.ID, c.read, c.errorsTotal, l.format, c.bytesRead, c.bytesTotal)
	return err
}

// apply runs applySQL over the staged rows and adds up its counts.
func (l *chunkLoader) apply(ctx context.Context) error {
	rows, err := l.tx.Query(ctx, applySQL, l.imp.Account, l.imp.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var kind string
		var valid, ins, conf int
		if err := rows.Scan(&kind, &valid, &ins, &conf); err != nil {
			rows.Close()
			return err
		}
		l.res.kinds[kind] += valid
		l.res.inserted += ins
		l.res.conflict += conf
	}
	return rows.Err()
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// RowHash is the hex SHA-256 of a row's normalised transaction data (key,
// instant, vehicle, agency, plazas, class, amount, kind): two rows with one
// key and the same hash are the same transaction, a different hash is a
// conflict. Formatting, posting date and balance columns do not count.
func RowHash(r ezpass.Row, key string) string {
	var stack [512]byte
	return rowHash(stack[:0], r, key)
}

// rowHash is RowHash hashing in buf (its capacity reused): the parts, each
// followed by a NUL byte, hashed at once.
func rowHash(buf []byte, r ezpass.Row, key string) string {
	part := func(s string) {
		buf = append(buf, s...)
		buf = append(buf, 0)
	}
	part("ezpass-row-v1")
	part(key)
	buf = r.TxnAt.UTC().AppendFormat(buf, time.RFC3339)
	buf = append(buf, 0)
	part(r.Tag)
	part(r.PlateState)
	part(r.Plate)
	for _, name := range []string{r.Agency, r.EntryPlaza, r.ExitPlaza, r.Plaza, r.Class} {
		part(foldName(name))
	}
	buf = strconv.AppendInt(buf, r.AmountCents, 10)
	buf = append(buf, 0)
	part(string(r.Kind))
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// foldName compares names ignoring case and runs of spaces. A name already
// folded (upper-case ASCII, single inner spaces) is returned as it is.
func foldName(s string) string {
	prevSpace := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80 || c >= 'a' && c <= 'z' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			return foldNameSlow(s)
		case c == ' ':
			if prevSpace {
				return foldNameSlow(s)
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	if prevSpace && s != "" {
		return foldNameSlow(s)
	}
	return s
}

func foldNameSlow(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }

// FailEZPassImport ends an import that could not be run (e.g. the database
// kept failing until the job gave up) as failed with msg, unless it has
// already finished; it is audited.
func FailEZPassImport(ctx context.Context, pool *pgxpool.Pool, importID int64, msg string) error {
	// FOR NO KEY UPDATE: a running import's transaction holds KEY SHARE on
	// its row (the foreign key of the transactions it stores chunk by
	// chunk); a stronger lock would wait for the whole import.
	return InTx(ctx, pool, func(tx pgx.Tx) error {
		var actor, status string
		err := tx.QueryRow(ctx, `SELECT created_by, status FROM ezpass_imports WHERE id = $1 FOR NO KEY UPDATE`, importID).Scan(&actor, &status)
		if err != nil {
			return notFound(err, fmt.Sprintf("E-ZPass import #%d", importID))
		}
		if status != ImportQueued && status != ImportRunning {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE ezpass_imports SET status = 'failed', message = $2, finished_at = clock_timestamp() WHERE id = $1`,
			importID, msg); err != nil {
			return err
		}
		return Audit(ctx, tx, actor, "ezpass.import", "ezpass_import", strconv.FormatInt(importID, 10),
			map[string]any{"status": status}, map[string]any{"status": ImportFailed, "message": msg}, "the import job gave up")
	})
}

// FailStrandedEZPassImports ends, as failed with msg, every import left
// running by a process that died: an import is only ever 'running' while a
// transaction holds its account's import lock, so a running import whose
// account lock is free is stranded (a busy account is looked at again on
// the next call). Each is audited; it returns the ids it failed.
func FailStrandedEZPassImports(ctx context.Context, pool *pgxpool.Pool, msg string) ([]int64, error) {
	rows, err := pool.Query(ctx, `SELECT id FROM ezpass_imports WHERE status = 'running' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	var failed []int64
	for _, id := range ids {
		err := InTx(ctx, pool, func(tx pgx.Tx) error {
			var actor, status, account string
			err := tx.QueryRow(ctx, `SELECT created_by, status, account FROM ezpass_imports WHERE id = $1 FOR NO KEY UPDATE`, id).
				Scan(&actor, &status, &account)
			if err != nil || status != ImportRunning {
				return err
			}
			var free bool
			if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended('ezpass.import:' || $1, 0))`, account).
				Scan(&free); err != nil || !free {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE ezpass_imports SET status = 'failed', message = $2, finished_at = clock_timestamp()
				WHERE id = $1`, id, msg); err != nil {
				return err
			}
			failed = append(failed, id)
			return Audit(ctx, tx, actor, "ezpass.import", "ezpass_import", strconv.FormatInt(id, 10),
				map[string]any{"status": status}, map[string]any{"status": ImportFailed, "message": msg}, "the import was interrupted")
		})
		if err != nil {
			return failed, err
		}
	}
	return failed, nil
}
