package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/store"
)

// ezpassImportBench measures the E-ZPass import (DESIGN §5.3) on a
// generated format A export of 1M rows × scale:
//
//  1. CSV: the import job (read the stored file, parse, COPY into staging,
//     one set-based insert with the dedupe and conflict rules) against the
//     limit — a raw COPY of the same, already parsed rows into a staging
//     table plus one INSERT … ON CONFLICT DO NOTHING into a table of the
//     same shape (columns, indexes, the import foreign key).
//  2. XLSX: the import job on the same rows as a workbook (under other Lane
//     Txn IDs, so that every row is new) against a bare excelize streaming
//     read of that workbook.
//
// Each is then re-imported from another file of the same rows (all
// duplicates, found against the stored ones).
//
// Both imports are also set against the bare read of their file (CSV:
// encoding/csv over the file; XLSX: excelize's streaming reader) with the
// target ≤ 1.2×: the import parses and stores in a pipeline, so that it
// should take little more than reading the file does.
//
// Peak RSS is measured in this process: the generator's memory is
// released, the kernel's high-water mark is reset (/proc/self/clear_refs),
// the step runs, and VmHWM is read — so the figure is the whole process at
// its peak during the step, Go runtime and pgx included.
func ezpassImportBench(ctx context.Context, env Env) ([]Row, error) {
	const section = "ezpass-import"
	n := max(1000, int(1_000_000*env.Scale))
	label := fmt.Sprintf("%s rows", eiCount(n))

	// The process id in the name: two runs at once (say, before and after a
	// change) must not drop each other's database.
	pool, drop, err := migratedDatabase(ctx, env, fmt.Sprintf("recondesk_bench_ezpass_import_%d", os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer drop()

	// The data set: a fleet and one export of it in CSV and in XLSX.
	began := time.Now()
	fleet := demo.Generate(demo.Options{Seed: 42, Vehicles: max(200, int(20000*env.Scale))})
	csvPath := filepath.Join(env.Dir, "ezpass-bench-a.csv")
	xlsxPath := filepath.Join(env.Dir, "ezpass-bench-a.xlsx")
	if err := eiWriteFile(csvPath, func(w io.Writer) error {
		return demo.WriteEZPassCSV(w, ezpass.FormatA, fleet.Opts.Loc, demo.EZPassBenchRows(fleet, n, 1))
	}); err != nil {
		return nil, err
	}
	// The workbook holds the same rows under other Lane Txn IDs: a Lane Txn
	// ID is one toll whatever the account, so the CSV's IDs would make every
	// workbook row a duplicate. Its re-import is the same rows with the
	// first repeated at the end (other bytes, all duplicates).
	xlsxRows := eiOtherLanes(demo.EZPassBenchRows(fleet, n, 1))
	if err := eiWriteFile(xlsxPath, func(w io.Writer) error {
		return demo.WriteEZPassXLSX(w, ezpass.FormatA, fleet.Opts.Loc, xlsxRows)
	}); err != nil {
		return nil, err
	}
	xlsxAgainPath := filepath.Join(env.Dir, "ezpass-bench-a-again.xlsx")
	if err := eiWriteFile(xlsxAgainPath, func(w io.Writer) error {
		return demo.WriteEZPassXLSX(w, ezpass.FormatA, fleet.Opts.Loc, eiFirstAgain(xlsxRows))
	}); err != nil {
		return nil, err
	}
	limitPath := filepath.Join(env.Dir, "ezpass-bench-a.copy")
	if err := eiWriteFile(limitPath, func(w io.Writer) error { return eiWriteStagingCopy(w, csvPath, fleet) }); err != nil {
		return nil, err
	}
	csvSize, xlsxSize := eiFileSize(csvPath), eiFileSize(xlsxPath)
	fmt.Fprintf(env.Out, "   generated %s rows: CSV %s, XLSX %s (%v)\n", eiCount(n), eiMb(csvSize), eiMb(xlsxSize), time.Since(began).Round(time.Millisecond))
	fleet = nil

	// 1. CSV: the limit first, then the import.
	limitDur, err := eiBenchLimit(ctx, pool, limitPath)
	if err != nil {
		return nil, fmt.Errorf("limit: %w", err)
	}
	fmt.Fprintf(env.Out, "   limit (COPY + INSERT ON CONFLICT): %v\n", limitDur.Round(time.Millisecond))
	csvBareDur, csvBareRSS, csvBareRows, err := eiMeasure(func() (int, error) { return eiBareCSVRead(csvPath) })
	if err != nil {
		return nil, fmt.Errorf("bare CSV read: %w", err)
	}
	fmt.Fprintf(env.Out, "   bare CSV read: %v (%d records), peak RSS %s\n", csvBareDur.Round(time.Millisecond), csvBareRows, eiMb(csvBareRSS))
	csvUpload, csvImp, csvDur, csvRSS, err := eiBenchImport(ctx, env, pool, csvPath, "bench-csv")
	if err != nil {
		return nil, fmt.Errorf("CSV import: %w", err)
	}
	fmt.Fprintf(env.Out, "   CSV import: %v (+ %v to store the original), peak RSS %s, %s\n",
		csvDur.Round(time.Millisecond), csvUpload.Round(time.Millisecond), eiMb(csvRSS), eiOutcome(csvImp))

	// The same rows again in another file (an overlapping export): every
	// row is a duplicate, found against the million stored ones.
	againPath := filepath.Join(env.Dir, "ezpass-bench-a-again.csv")
	if err := eiWriteFile(againPath, func(w io.Writer) error {
		f, err := os.Open(csvPath)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		_, err = io.WriteString(w, "\r\n") // a blank line: other bytes, same rows
		return err
	}); err != nil {
		return nil, err
	}
	_, againImp, againDur, _, err := eiBenchImport(ctx, Env{}, pool, againPath, "bench-csv")
	if err != nil {
		return nil, fmt.Errorf("CSV re-import: %w", err)
	}
	fmt.Fprintf(env.Out, "   CSV re-import: %v, %s\n", againDur.Round(time.Millisecond), eiOutcome(againImp))
	if againImp.Duplicates != n || againImp.Inserted != 0 {
		return nil, fmt.Errorf("re-import: %s", eiOutcome(againImp))
	}

	// 2. XLSX: the bare read, then the import (its own Lane Txn IDs, so
	// that it inserts every row as the CSV import did), then its re-import.
	bareDur, bareRSS, bareRows, err := eiMeasure(func() (int, error) { return eiBareXLSXRead(xlsxPath) })
	if err != nil {
		return nil, fmt.Errorf("bare XLSX read: %w", err)
	}
	fmt.Fprintf(env.Out, "   bare excelize read: %v (%d rows), peak RSS %s\n", bareDur.Round(time.Millisecond), bareRows, eiMb(bareRSS))
	xlsxUpload, xlsxImp, xlsxDur, xlsxRSS, err := eiBenchImport(ctx, env, pool, xlsxPath, "bench-xlsx")
	if err != nil {
		return nil, fmt.Errorf("XLSX import: %w", err)
	}
	fmt.Fprintf(env.Out, "   XLSX import: %v (+ %v to store the original), peak RSS %s, %s\n",
		xlsxDur.Round(time.Millisecond), xlsxUpload.Round(time.Millisecond), eiMb(xlsxRSS), eiOutcome(xlsxImp))

	for _, imp := range []store.EZPassImport{csvImp, xlsxImp} {
		if imp.Status != store.ImportSucceeded || imp.Inserted != n {
			return nil, fmt.Errorf("import of %s: %s with %d of %d rows inserted: %s", imp.FileName, imp.Status, imp.Inserted, n, imp.Message)
		}
	}
	_, xlsxAgainImp, xlsxAgainDur, _, err := eiBenchImport(ctx, Env{}, pool, xlsxAgainPath, "bench-xlsx")
	if err != nil {
		return nil, fmt.Errorf("XLSX re-import: %w", err)
	}
	fmt.Fprintf(env.Out, "   XLSX re-import: %v, %s\n", xlsxAgainDur.Round(time.Millisecond), eiOutcome(xlsxAgainImp))
	if xlsxAgainImp.Duplicates != n+1 || xlsxAgainImp.Inserted != 0 {
		return nil, fmt.Errorf("XLSX re-import: %s", eiOutcome(xlsxAgainImp))
	}

	csvRatio := csvDur.Seconds() / limitDur.Seconds()
	csvBareRatio := csvDur.Seconds() / csvBareDur.Seconds()
	xlsxRatio := xlsxDur.Seconds() / bareDur.Seconds()
	return []Row{
		{Section: section, Name: "CSV import " + label, Value: eiSecs(csvDur), Baseline: eiSecs(limitDur) + " COPY+INSERT",
			Ratio: eiRatio(csvRatio), Target: "≤ 1.5×", Met: eiMet(csvRatio <= 1.5),
			Note: fmt.Sprintf("job only; storing the %s original took %s more", eiMb(csvSize), eiSecs(csvUpload))},
		{Section: section, Name: "CSV import " + label + " vs bare read", Value: eiSecs(csvDur), Baseline: eiSecs(csvBareDur) + " bare encoding/csv read",
			Ratio: eiRatio(csvBareRatio), Target: "≤ 1.2×", Met: eiMet(csvBareRatio <= 1.2), Note: "job only (read stored file, parse, COPY, apply)"},
		{Section: section, Name: "CSV import peak RSS", Value: eiMb(csvRSS), Baseline: eiMb(csvBareRSS) + " bare read",
			Target: "≤ 150 MB", Met: eiMet(csvRSS <= 150<<20),
			Note: "whole process VmHWM during the job"},
		{Section: section, Name: "CSV re-import, all duplicates", Value: eiSecs(againDur), Ratio: eiRatio(againDur.Seconds() / csvDur.Seconds()),
			Note: "same rows in another file, against the stored ones; ratio to the first import"},
		{Section: section, Name: "XLSX import " + label, Value: eiSecs(xlsxDur), Baseline: eiSecs(bareDur) + " bare excelize read",
			Ratio: eiRatio(xlsxRatio), Target: "≤ 1.2×", Met: eiMet(xlsxRatio <= 1.2),
			Note: fmt.Sprintf("job only; storing the %s original took %s more", eiMb(xlsxSize), eiSecs(xlsxUpload))},
		{Section: section, Name: "XLSX import peak RSS", Value: eiMb(xlsxRSS), Baseline: eiMb(bareRSS) + " bare read",
			Target: "≤ 300 MB", Met: eiMet(xlsxRSS <= 300<<20), Note: "whole process VmHWM during the job"},
		{Section: section, Name: "XLSX re-import, all duplicates", Value: eiSecs(xlsxAgainDur), Ratio: eiRatio(xlsxAgainDur.Seconds() / xlsxDur.Seconds()),
			Note: "same rows (first repeated) in another workbook; ratio to the first import"},
	}, nil
}

// eiBenchImport stores the file as an upload and runs the import job on it,
// measuring the job's time and the process's peak RSS during it.
func eiBenchImport(ctx context.Context, env Env, pool *pgxpool.Pool, path, account string) (upload time.Duration, imp store.EZPassImport, job time.Duration, rss int64, err error) {
	sum, size, err := eiFileSHA(path)
	if err != nil {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	began := time.Now()
	err = store.InTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		imp, err = store.CreateEZPassImport(ctx, tx, store.NewEZPassImport{Account: account, FileName: filepath.Base(path),
			CreatedBy: "system:bench", TimeZone: "America/New_York", SHA256: sum, Size: size, File: bufio.NewReader(f)})
		return err
	})
	if err != nil {
		return
	}
	upload = time.Since(began)
	if _, err = pool.Exec(ctx, `CHECKPOINT`); err != nil {
		return
	}
	job, rss, _, err = eiMeasure(func() (int, error) {
		if env.CPUProfile != "" {
			f, err := os.Create(env.CPUProfile + "." + account + ".pprof")
			if err != nil {
				return 0, err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return 0, err
			}
			defer pprof.StopCPUProfile()
		}
		var err error
		imp, err = store.RunEZPassImport(ctx, pool, imp.ID, store.ImportOptions{})
		return imp.RowsRead, err
	})
	return
}

// eiOtherLanes is rows with Lane Txn IDs that no row of rows has (a "9"
// before each: one digit longer).
func eiOtherLanes(rows iter.Seq[demo.EZPassRow]) iter.Seq[demo.EZPassRow] {
	return func(yield func(demo.EZPassRow) bool) {
		for r := range rows {
			if r.LaneTxnID != "" {
				r.LaneTxnID = "9" + r.LaneTxnID
			}
			if !yield(r) {
				return
			}
		}
	}
}

// eiFirstAgain is rows with the first repeated at the end.
func eiFirstAgain(rows iter.Seq[demo.EZPassRow]) iter.Seq[demo.EZPassRow] {
	return func(yield func(demo.EZPassRow) bool) {
		var first *demo.EZPassRow
		for r := range rows {
			if first == nil {
				first = &r
			}
			if !yield(r) {
				return
			}
		}
		if first != nil {
			yield(*first)
		}
	}
}

// eiBareCSVRead reads every record of the CSV file with encoding/csv (the
// reader the import uses), doing nothing with them.
func eiBareCSVRead(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	n := 0
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// eiMeasure runs fn with the heap released and the RSS high-water mark reset,
// returning its duration and the peak RSS of the process while it ran.
func eiMeasure(fn func() (int, error)) (time.Duration, int64, int, error) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, 0, 0, fmt.Errorf("reset the RSS high-water mark: %w", err)
	}
	began := time.Now()
	n, err := fn()
	d := time.Since(began)
	return d, vmHWM(), n, err
}

// eiBenchLimit is the lower bound of loading the rows: COPY the pre-parsed
// staging rows, then one INSERT … SELECT … ON CONFLICT DO NOTHING into a
// table shaped like ezpass_transactions (LIKE … INCLUDING ALL, plus the
// import foreign key), in one transaction.
func eiBenchLimit(ctx context.Context, pool *pgxpool.Pool, copyPath string) (time.Duration, error) {
	var importID int64
	err := pool.QueryRow(ctx, `INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by)
		VALUES ('limit', 'limit', 1, repeat('0', 64), 'system:bench') RETURNING id`).Scan(&importID)
	if err != nil {
		return 0, err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE limit_transactions (LIKE ezpass_transactions INCLUDING ALL,
		FOREIGN KEY (import_id) REFERENCES ezpass_imports (id))`); err != nil {
		return 0, err
	}
	defer pool.Exec(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS limit_transactions`) //nolint:errcheck
	if _, err := pool.Exec(ctx, `CHECKPOINT`); err != nil {
		return 0, err
	}
	f, err := os.Open(copyPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	began := time.Now()
	err = store.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE limit_staging (line int, dedupe_key text, lane_txn_id text, row_hash text,
			kind text, excluded_reason text, tag_or_plate text, tag text, plate_state text, plate text, agency text,
			entry_plaza text, exit_plaza text, vehicle_class text, txn_at timestamptz, posted_on date, amount_cents bigint,
			raw text) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), `COPY limit_staging FROM STDIN`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO limit_transactions (account, dedupe_key, lane_txn_id, row_hash, import_id, line, kind,
			excluded_reason, tag_or_plate, tag, plate_state, plate, agency, entry_plaza, exit_plaza, vehicle_class, txn_at,
			posted_on, amount_cents, raw, status)
			SELECT 'limit', dedupe_key, lane_txn_id, row_hash, $1, line, kind, excluded_reason, tag_or_plate, tag, plate_state,
				plate, agency, entry_plaza, exit_plaza, vehicle_class, txn_at, posted_on, amount_cents, raw::jsonb,
				CASE WHEN kind IN ('toll', 'credit') THEN 'imported' ELSE 'excluded' END
			FROM limit_staging ON CONFLICT DO NOTHING`, importID)
		return err
	})
	return time.Since(began), err
}

// eiWriteStagingCopy parses the CSV once (untimed) and writes the staging
// rows the import would COPY, in COPY text format.
func eiWriteStagingCopy(w io.Writer, csvPath string, fleet *demo.Fleet) error {
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := ezpass.Open(f, eiFileSize(csvPath), csvPath, ezpass.Options{Location: fleet.Opts.Loc})
	if err != nil {
		return err
	}
	defer rd.Close()
	bw := bufio.NewWriterSize(w, 1<<20)
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		key := r.LaneTxnID
		lane := eiCopyText(key)
		if key == "" {
			key, lane = "fp:"+r.Fingerprint(), `\N`
		}
		exit := r.ExitPlaza
		if exit == "" {
			exit = r.Plaza
		}
		raw, _ := r.Raw.MarshalJSON()
		posted := `\N`
		if !r.PostedOn.IsZero() {
			posted = r.PostedOn.Format("2006-01-02")
		}
		fields := []string{strconv.Itoa(r.Line), eiCopyText(key), lane, store.RowHash(r, key), string(r.Kind),
			eiCopyText(r.ExcludedReason), eiCopyText(r.TagOrPlate), eiNullCopy(r.Tag), eiNullCopy(r.PlateState), eiNullCopy(r.Plate),
			eiCopyText(r.Agency), eiCopyText(r.EntryPlaza), eiCopyText(exit), eiCopyText(r.Class), r.TxnAt.UTC().Format(time.RFC3339),
			posted, strconv.FormatInt(r.AmountCents, 10), eiCopyText(string(raw))}
		bw.WriteString(strings.Join(fields, "\t"))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

var eiCopyEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

func eiCopyText(s string) string { return eiCopyEscaper.Replace(s) }

func eiNullCopy(s string) string {
	if s == "" {
		return `\N`
	}
	return eiCopyText(s)
}

// eiBareXLSXRead reads every row of the workbook's first sheet with
// excelize's streaming reader, with the parser's unpacking limits.
func eiBareXLSXRead(path string) (int, error) {
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: ezpass.DefaultMaxXLSXUnzipBytes, UnzipXMLSizeLimit: ezpass.DefaultMaxXLSXXMLBytes})
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetList()[0])
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if _, err := rows.Columns(excelize.Options{RawCellValue: true}); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Error()
}

func eiWriteFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func eiFileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func eiFileSHA(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func eiOutcome(imp store.EZPassImport) string {
	return fmt.Sprintf("%s: %d read, %d inserted, %d duplicates, %d errors", imp.Status, imp.RowsRead, imp.Inserted, imp.Duplicates, imp.Errors)
}

func eiCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

func eiMb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }

func eiSecs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func eiRatio(r float64) string { return fmt.Sprintf("%.2f×", r) }

func eiMet(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
