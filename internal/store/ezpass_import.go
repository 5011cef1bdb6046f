package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
)

// E-ZPass import statuses (DESIGN §5.3).
const (
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportSucceeded = "succeeded"
	ImportPartial   = "partial"
	ImportFailed    = "failed"
)

// EZPassImport is one uploaded E-ZPass file and what loading it did.
type EZPassImport struct {
	ID        int64
	Account   string
	FileName  string
	SizeBytes int64
	SHA256    string
	Format    string // "A", "B", "C"; empty until read
	Status    string
	Message   string // why it failed, or what it is doing
	CreatedBy string // audit actor of the uploader
	// CreatedByLabel is the uploader's email when CreatedBy is a user.
	CreatedByLabel string
	TimeZone       string // zone of the file's wall-clock times
	CreatedAt      time.Time
	StartedAt      *time.Time
	FinishedAt     *time.Time

	RowsRead   int // data rows read, good or bad
	Inserted   int // new transactions stored
	Duplicates int // rows already stored (same id and same data), or repeated in the file
	Conflicts  int // rows whose id is stored with different data, stored beside it as conflicts
	Errors     int // rows that could not be read

	// BytesRead of BytesTotal is how much of the input the parser has
	// consumed (see ezpass.Reader.Progress): the file's bytes for CSV, the
	// sheet's uncompressed XML for a workbook. Both are 0 before reading.
	BytesRead  int64
	BytesTotal int64

	// Good rows read, by kind.
	Tolls    int
	Credits  int
	Payments int
	TagFees  int
	Excluded int
}

// Percent is how much of the input has been read, 0 to 100: 100 once the
// import finished, 0 while nothing is known.
func (i EZPassImport) Percent() int {
	switch {
	case !i.Active():
		return 100
	case i.BytesTotal <= 0 || i.BytesRead <= 0:
		return 0
	case i.BytesRead >= i.BytesTotal:
		return 100
	}
	return int(i.BytesRead * 100 / i.BytesTotal)
}

// Active reports whether the import is waiting or running.
func (i EZPassImport) Active() bool { return i.Status == ImportQueued || i.Status == ImportRunning }

// Duration is how long loading took (so far, while it runs).
func (i EZPassImport) Duration(now time.Time) time.Duration {
	if i.StartedAt == nil {
		return 0
	}
	end := now
	if i.FinishedAt != nil {
		end = *i.FinishedAt
	}
	return end.Sub(*i.StartedAt)
}

// Who names the uploader for people: the email, else the actor.
func (i EZPassImport) Who() string {
	if i.CreatedByLabel != "" {
		return i.CreatedByLabel
	}
	return i.CreatedBy
}

const importCols = `i.id, i.account, i.file_name, i.size_bytes, i.sha256, i.format, i.status, i.message, i.created_by,
	coalesce(u.email, ''), i.time_zone, i.created_at, i.started_at, i.finished_at, i.rows_read, i.inserted, i.duplicates,
	i.conflicts, i.errors, i.tolls, i.credits, i.payments, i.tag_fees, i.excluded, i.bytes_read, i.bytes_total`

const importFrom = ` FROM ezpass_imports i LEFT JOIN users u ON i.created_by = 'user:' || u.id::text`

func scanImport(row pgx.Row) (EZPassImport, error) {
	var i EZPassImport
	err := row.Scan(&i.ID, &i.Account, &i.FileName, &i.SizeBytes, &i.SHA256, &i.Format, &i.Status, &i.Message, &i.CreatedBy,
		&i.CreatedByLabel, &i.TimeZone, &i.CreatedAt, &i.StartedAt, &i.FinishedAt, &i.RowsRead, &i.Inserted, &i.Duplicates,
		&i.Conflicts, &i.Errors, &i.Tolls, &i.Credits, &i.Payments, &i.TagFees, &i.Excluded, &i.BytesRead, &i.BytesTotal)
	return i, err
}

// NewEZPassImport is an uploaded file to record.
type NewEZPassImport struct {
	Account   string
	FileName  string
	CreatedBy string // audit actor
	TimeZone  string // IANA name, e.g. America/New_York
	SHA256    string // hex SHA-256 of the file
	Size      int64
	// File yields the file's bytes; it is streamed into the database.
	File io.Reader
}

// DuplicateImportError refuses a file whose SHA-256 was imported before.
type DuplicateImportError struct {
	Existing EZPassImport
}

// Error says which import holds the file already and where to see it.
func (e *DuplicateImportError) Error() string {
	return fmt.Sprintf("This file was already imported as import #%d (%s, uploaded %s): see /ezpass/imports/%d. "+
		"Nothing was imported again; upload a different export.",
		e.Existing.ID, e.Existing.FileName, e.Existing.CreatedAt.UTC().Format("2006-01-02 15:04 MST"), e.Existing.ID)
}

// Unwrap lets apperror see a 409 Conflict with the message above.
func (e *DuplicateImportError) Unwrap() error {
	return apperror.New(apperror.Conflict, "%s", e.Error())
}

// maxAccountLen bounds an E-ZPass account name.
const maxAccountLen = 64

// CleanAccount trims an account name and checks it: 1 to 64 printable
// characters.
func CleanAccount(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", apperror.FieldErrors(map[string]string{"account": "Enter the E-ZPass account the file belongs to."})
	}
	if utf8.RuneCountInString(s) > maxAccountLen || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return "", apperror.FieldErrors(map[string]string{"account": fmt.Sprintf("The account must be at most %d printable characters.", maxAccountLen)})
	}
	return s, nil
}

// cleanFileName keeps the base name of an uploaded file, printable, at most 200 characters.
func cleanFileName(s string) string {
	s = filepath.Base(strings.ReplaceAll(s, `\`, "/"))
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	if s == "" || s == "." || s == "/" {
		s = "upload"
	}
	return s
}

// CreateEZPassImport records an upload as a queued import and stores the
// original bytes (streamed with COPY, never held whole in memory). A file
// imported before (same SHA-256) is refused with a *DuplicateImportError,
// unless that import failed: a failed import never blocks the same file.
// (Concurrent uploads of one file: the first holds it, the others are
// refused as duplicates by the unique digest.)
func CreateEZPassImport(ctx context.Context, tx pgx.Tx, in NewEZPassImport) (EZPassImport, error) {
	account, err := CleanAccount(in.Account)
	if err != nil {
		return EZPassImport{}, err
	}
	if len(in.SHA256) != 64 {
		return EZPassImport{}, errors.New("store: import needs the file's hex SHA-256")
	}
	if in.Size <= 0 {
		return EZPassImport{}, apperror.New(apperror.Invalid, "The file is empty. Export the transaction report from the E-ZPass account and upload it.")
	}
	if existing, err := EZPassImportBySHA(ctx, tx, in.SHA256); err == nil && existing.Status != ImportFailed {
		return EZPassImport{}, &DuplicateImportError{Existing: existing}
	} else if err == nil {
		// A failed import gives the file up: its digest moves aside (kept
		// with a "#failed-<id>" suffix) so that the new import holds it.
		if _, err := tx.Exec(ctx, `UPDATE ezpass_imports SET sha256 = sha256 || '#failed-' || id::text
			WHERE id = $1 AND status = 'failed' AND sha256 = lower($2)`, existing.ID, in.SHA256); err != nil {
			return EZPassImport{}, err
		}
	} else if apperror.CodeOf(err) != apperror.NotFound {
		return EZPassImport{}, err
	}
	tz := in.TimeZone
	if tz == "" {
		tz = "America/New_York"
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by, time_zone)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING RETURNING id`,
		account, cleanFileName(in.FileName), in.Size, strings.ToLower(in.SHA256), in.CreatedBy, tz).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) { // uploaded concurrently
		existing, err := EZPassImportBySHA(ctx, tx, in.SHA256)
		if err != nil {
			return EZPassImport{}, err
		}
		return EZPassImport{}, &DuplicateImportError{Existing: existing}
	}
	if err != nil {
		return EZPassImport{}, err
	}
	if err := copyImportFile(ctx, tx, id, in.File, in.Size); err != nil {
		return EZPassImport{}, err
	}
	return EZPassImportByID(ctx, tx, id)
}

// copyImportFile streams the file into ezpass_import_files as one COPY text
// row, hex-encoding on the fly.
func copyImportFile(ctx context.Context, tx pgx.Tx, id int64, file io.Reader, size int64) error {
	pr, pw := io.Pipe()
	go func() {
		_, err := fmt.Fprintf(pw, "%d\t\\\\x", id)
		if err == nil {
			var n int64
			n, err = io.Copy(hex.NewEncoder(pw), file)
			if err == nil && n != size {
				err = fmt.Errorf("store: the upload has %d bytes, %d expected", n, size)
			}
		}
		if err == nil {
			_, err = pw.Write([]byte("\n"))
		}
		pw.CloseWithError(err)
	}()
	_, err := tx.Conn().PgConn().CopyFrom(ctx, pr, `COPY ezpass_import_files (import_id, data) FROM STDIN`)
	pr.CloseWithError(errors.New("store: copy finished"))
	return err
}

// EZPassImportByID returns one import.
func EZPassImportByID(ctx context.Context, db DBTX, id int64) (EZPassImport, error) {
	i, err := scanImport(db.QueryRow(ctx, `SELECT `+importCols+importFrom+` WHERE i.id = $1`, id))
	return i, notFound(err, fmt.Sprintf("E-ZPass import #%d", id))
}

// EZPassImportBySHA returns the import of the file with this SHA-256.
func EZPassImportBySHA(ctx context.Context, db DBTX, sha string) (EZPassImport, error) {
	i, err := scanImport(db.QueryRow(ctx, `SELECT `+importCols+importFrom+` WHERE i.sha256 = lower($1)`, sha))
	return i, notFound(err, "An import of this file")
}

// ListEZPassImports returns imports newest first; beforeID > 0 continues
// after that import (keyset).
func ListEZPassImports(ctx context.Context, db DBTX, beforeID int64, limit int) ([]EZPassImport, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := db.Query(ctx, `SELECT `+importCols+importFrom+`
		WHERE ($1 = 0 OR i.id < $1) ORDER BY i.id DESC LIMIT $2`, beforeID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (EZPassImport, error) { return scanImport(r) })
}

// EZPassImportError is a row of an import that could not be read.
type EZPassImportError struct {
	Line    int    `json:"line"`
	Column  string `json:"column"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

// ListEZPassImportErrors returns an import's row errors in line order,
// after line afterLine (keyset), at most limit.
func ListEZPassImportErrors(ctx context.Context, db DBTX, importID int64, afterLine, limit int) ([]EZPassImportError, error) {
	rows, err := db.Query(ctx, `SELECT line, column_name, value, message FROM ezpass_import_errors
		WHERE import_id = $1 AND line > $2 ORDER BY line LIMIT $3`, importID, afterLine, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (EZPassImportError, error) {
		var e EZPassImportError
		return e, r.Scan(&e.Line, &e.Column, &e.Value, &e.Message)
	})
}

// EachEZPassImportError calls fn for every row error of an import in line
// order, streaming them from the database.
func EachEZPassImportError(ctx context.Context, db DBTX, importID int64, fn func(EZPassImportError) error) error {
	rows, err := db.Query(ctx, `SELECT line, column_name, value, message FROM ezpass_import_errors
		WHERE import_id = $1 ORDER BY line`, importID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e EZPassImportError
		if err := rows.Scan(&e.Line, &e.Column, &e.Value, &e.Message); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// KindOutcome counts what happened to the good rows of one kind.
type KindOutcome struct {
	Read       int `json:"read"`
	Inserted   int `json:"inserted"`
	Duplicates int `json:"duplicates"`
	Conflicts  int `json:"conflicts"`
}

// EZPassImportOutcomes breaks an import's rows down by kind and outcome,
// and its stored transactions by their current status.
type EZPassImportOutcomes struct {
	ByKind map[string]KindOutcome `json:"by_kind"`
	// Statuses counts the transactions this import stored, by current status.
	Statuses map[string]int `json:"statuses"`
}

// ImportKinds are the row kinds in display order.
var ImportKinds = []string{"toll", "credit", "payment", "tag_fee", "excluded"}

// EZPassImportOutcomesOf computes the kind × outcome breakdown of an import
// from the rows it stored.
func EZPassImportOutcomesOf(ctx context.Context, db DBTX, imp EZPassImport) (EZPassImportOutcomes, error) {
	out := EZPassImportOutcomes{ByKind: map[string]KindOutcome{}, Statuses: map[string]int{}}
	read := map[string]int{"toll": imp.Tolls, "credit": imp.Credits, "payment": imp.Payments, "tag_fee": imp.TagFees, "excluded": imp.Excluded}
	rows, err := db.Query(ctx, `SELECT kind, status, (conflict_of IS NOT NULL), count(*) FROM ezpass_transactions
		WHERE import_id = $1 GROUP BY 1, 2, 3`, imp.ID)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, status string
		var conflict bool
		var n int
		if err := rows.Scan(&kind, &status, &conflict, &n); err != nil {
			return out, err
		}
		k := out.ByKind[kind]
		if conflict {
			k.Conflicts += n
		} else {
			k.Inserted += n
		}
		out.ByKind[kind] = k
		out.Statuses[status] += n
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	for _, kind := range ImportKinds {
		k := out.ByKind[kind]
		k.Read = read[kind]
		k.Duplicates = max(0, k.Read-k.Inserted-k.Conflicts)
		out.ByKind[kind] = k
	}
	return out, nil
}

// EZPassImportSummary is an import as the API and the CLI print it.
type EZPassImportSummary struct {
	ID         int64      `json:"id"`
	URL        string     `json:"url"`
	Account    string     `json:"account"`
	FileName   string     `json:"file_name"`
	SizeBytes  int64      `json:"size_bytes"`
	SHA256     string     `json:"sha256"`
	Format     string     `json:"format"`
	Status     string     `json:"status"`
	Message    string     `json:"message,omitempty"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Counts     struct {
		RowsRead   int `json:"rows_read"`
		Inserted   int `json:"inserted"`
		Duplicates int `json:"duplicates"`
		Conflicts  int `json:"conflicts"`
		Errors     int `json:"errors"`
	} `json:"counts"`
	Kinds map[string]int `json:"kinds"`
	// Progress is how much of the input has been read (see EZPassImport.BytesRead).
	Progress struct {
		BytesRead  int64 `json:"bytes_read"`
		BytesTotal int64 `json:"bytes_total"`
		Percent    int   `json:"percent"`
	} `json:"progress"`
	// Outcomes is filled once the import has finished.
	Outcomes *EZPassImportOutcomes `json:"outcomes,omitempty"`
}

// Summary is the import as JSON for the API and the CLI.
func (i EZPassImport) Summary() EZPassImportSummary {
	s := EZPassImportSummary{
		ID: i.ID, URL: fmt.Sprintf("/ezpass/imports/%d", i.ID), Account: i.Account, FileName: i.FileName, SizeBytes: i.SizeBytes,
		SHA256: i.SHA256, Format: i.Format, Status: i.Status, Message: i.Message, CreatedBy: i.Who(), CreatedAt: i.CreatedAt,
		StartedAt: i.StartedAt, FinishedAt: i.FinishedAt,
		Kinds: map[string]int{"toll": i.Tolls, "credit": i.Credits, "payment": i.Payments, "tag_fee": i.TagFees, "excluded": i.Excluded},
	}
	s.Counts.RowsRead, s.Counts.Inserted, s.Counts.Duplicates, s.Counts.Conflicts, s.Counts.Errors =
		i.RowsRead, i.Inserted, i.Duplicates, i.Conflicts, i.Errors
	s.Progress.BytesRead, s.Progress.BytesTotal, s.Progress.Percent = i.BytesRead, i.BytesTotal, i.Percent()
	return s
}

// importFileChunk is how much of an original file one query reads back.
const importFileChunk = 4 << 20

// CopyEZPassImportFile writes an import's original bytes to w, reading them
// back in slices so that memory stays bounded whatever the file's size.
func CopyEZPassImportFile(ctx context.Context, db DBTX, imp EZPassImport, w io.Writer) (int64, error) {
	var done int64
	for done < imp.SizeBytes {
		n := min(int64(importFileChunk), imp.SizeBytes-done)
		var chunk []byte
		err := db.QueryRow(ctx, `SELECT substring(data FROM $2 FOR $3) FROM ezpass_import_files WHERE import_id = $1`,
			imp.ID, done+1, n).Scan(&chunk)
		if err != nil {
			return done, notFound(err, fmt.Sprintf("The file of E-ZPass import #%d", imp.ID))
		}
		if len(chunk) == 0 {
			return done, fmt.Errorf("store: the file of import %d ends at %d bytes, %d expected", imp.ID, done, imp.SizeBytes)
		}
		m, err := w.Write(chunk)
		done += int64(m)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}
