package ezpass

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// newYork loads the default time zone, failing the test if it is missing.
func newYork(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("load America/New_York: %v", err)
	}
	return loc
}

// utc is a fixed instant, written as UTC so that expectations never depend on
// the code under test resolving local times.
func utc(year int, month time.Month, day, hour, minute, second int) time.Time {
	return time.Date(year, month, day, hour, minute, second, 0, time.UTC)
}

// date is a calendar date as Row.PostedOn holds it.
func date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

// parsed is everything a Reader produced for one file.
type parsed struct {
	format Format
	kind   FileKind
	rows   []Row
	errs   []*RowError
}

// readBytes opens data as fileName and reads it to the end.
func readBytes(t testing.TB, data []byte, fileName string, opts Options) parsed {
	t.Helper()
	r, err := Open(bytes.NewReader(data), int64(len(data)), fileName, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", fileName, err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	p := parsed{format: r.Format(), kind: r.FileKind()}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return p
		}
		var rowErr *RowError
		switch {
		case errors.As(err, &rowErr):
			if row.Line != rowErr.Line {
				t.Errorf("row error on line %d came with Row.Line %d", rowErr.Line, row.Line)
			}
			p.errs = append(p.errs, rowErr)
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			p.rows = append(p.rows, row)
		}
	}
}

// readCSV reads CSV text given as lines joined with "\n".
func readCSV(t testing.TB, lines ...string) parsed {
	t.Helper()
	return readBytes(t, []byte(strings.Join(lines, "\n")+"\n"), "export.csv", Options{Location: newYork(t)})
}

const (
	headerA = "Lane Txn ID,Tag/Plate #,Agency,Entry Plaza,Exit Plaza,Class,Date,Exit Time,Amount"
	headerB = "Lane Txn ID,Tag/Plate #,Posted Date,Agency,Entry Plaza,Exit Plaza,Class,Date,Time,Amount,Post Txn Balance"
	headerC = "POSTING DATE,TRANSACTION DATE,TAG/PLATE NUMBER,AGENCY,ACTIVITY,PLAZA ID,ENTRY TIME,ENTRY PLAZA," +
		"ENTRY LANE,EXIT TIME,EXIT PLAZA,EXIT LANE,VEHICLE TYPE CODE,AMOUNT,PREPAID,PLAN/RATE,FARE TYPE,BALANCE"
)
