package ezpass

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// workbook describes a test workbook: rows of cell values for the first
// sheet, written with excelize's SetCellValue (so time.Time becomes a real
// date cell and float64 a number), plus raw numeric cells to write verbatim.
type workbook struct {
	sheet    string            // first sheet's name; "Sheet1" when empty
	startRow int               // row of the first entry of rows; 1 when zero
	rows     [][]any           // nil entries leave a gap row
	raw      map[string]string // cell reference → numeric text as stored in the XML
	date1904 bool
	extra    bool // add a second sheet holding another export
}

func buildXLSX(t testing.TB, wb workbook) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Sheet1"
	if wb.sheet != "" {
		if err := f.SetSheetName("Sheet1", wb.sheet); err != nil {
			t.Fatal(err)
		}
		sheet = wb.sheet
	}
	if wb.date1904 {
		yes := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	start := max(wb.startRow, 1)
	for i, row := range wb.rows {
		if row == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, start+i)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	for ref, v := range wb.raw {
		if err := f.SetCellDefault(sheet, ref, v); err != nil {
			t.Fatal(err)
		}
	}
	if wb.extra {
		if _, err := f.NewSheet("Other"); err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow("Other", "A1", &[]any{"Name", "Email"}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func headerCells(h string) []any {
	var out []any
	for _, s := range strings.Split(h, ",") {
		out = append(out, s)
	}
	return out
}

// wallUTC is a wall-clock time for excelize, which writes t's UTC fields.
func wallUTC(y int, m time.Month, d, h, mi, s int) time.Time { return utc(y, m, d, h, mi, s) }

func clock(h, m, s int) time.Duration {
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
}

func TestReadXLSXFormatA(t *testing.T) {
	t.Parallel()
	data := buildXLSX(t, workbook{
		sheet: "Transactions",
		rows: [][]any{
			headerCells(headerA),
			// Real date and time cells, a numeric id and a numeric amount.
			{2960411718, "00812345678", "MTAB&T", "", "VERRAZANO", 1, wallUTC(2026, 1, 2, 0, 0, 0), clock(7, 42, 13), -6.94},
			// Everything as text.
			{"2960411832", "NY T123456C", "MTAB&T", "", "RFK TRIBOROUGH", "1", "1/2/2026", "6:05:51 PM", "$-6.94"},
			// A date-time in the Date cell and no Exit Time.
			{2960502119, "NY-T12 3456C", "PANYNJ", "", "GWB UPPER", 1, wallUTC(2026, 1, 3, 11, 18, 2), nil, -16.06},
			// Payment, positive number.
			{2960700999, nil, "E-ZPASS NY", nil, "PAYMENT", nil, wallUTC(2026, 1, 7, 0, 0, 0), nil, 1500},
			// Fall-back hour, as a time cell.
			{2961100001, "00812345680", "PANYNJ", "", "HOLLAND TUNNEL", 1, wallUTC(2026, 11, 1, 0, 0, 0), clock(1, 30, 0), -15.38},
			// Cells written below: id in scientific notation, a float artefact amount, a time serial.
			{nil, "00812345681", "CBDTP", "", "60TH ST", 1, wallUTC(2026, 1, 12, 0, 0, 0)},
		},
		raw: map[string]string{"A7": "2.961000076E+9", "H7": "0.335636574074074", "I7": "-8.9999999999999982"},
	})
	got := readBytes(t, data, "report.xlsx", Options{})
	if got.format != FormatA || got.kind != FileXLSX {
		t.Errorf("format, kind = %q, %q; want A, xlsx", got.format, got.kind)
	}
	for _, e := range got.errs {
		t.Errorf("unexpected row error: %v", e)
	}
	var zero time.Time
	diffSummaries(t, summarise(got.rows), []summary{
		{2, "2960411718", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 2, 12, 42, 13), zero, 694, KindToll},
		{3, "2960411832", "NY T123456C", "MTAB&T", "RFK TRIBOROUGH", utc(2026, 1, 2, 23, 5, 51), zero, 694, KindToll},
		{4, "2960502119", "NY T123456C", "PANYNJ", "GWB UPPER", utc(2026, 1, 3, 16, 18, 2), zero, 1606, KindToll},
		{5, "2960700999", "", "E-ZPASS NY", "PAYMENT", utc(2026, 1, 7, 5, 0, 0), zero, -150000, KindPayment},
		{6, "2961100001", "00812345680", "PANYNJ", "HOLLAND TUNNEL", utc(2026, 11, 1, 5, 30, 0), zero, 1538, KindToll},
		{7, "2961000076", "00812345681", "CBDTP", "60TH ST", utc(2026, 1, 12, 13, 3, 19), zero, 900, KindExcluded},
	})
	if len(got.rows) > 0 {
		if v, _ := got.rows[0].Raw.Get("Date"); v != "46024" {
			t.Errorf("Raw Date = %q; want the serial number as stored", v)
		}
	}
}

func TestReadXLSXFormatC(t *testing.T) {
	t.Parallel()
	header := strings.Replace(headerC, "ACTIVITY", "DESCRIPTION", 1)
	data := buildXLSX(t, workbook{
		rows: [][]any{
			{"E-ZPass statement"},
			nil,
			headerCells(header),
			{wallUTC(2026, 1, 4, 0, 0, 0), wallUTC(2026, 1, 3, 0, 0, 0), "00812345679", "NYSTA", "TOLL", "WB15",
				wallUTC(2026, 1, 3, 14, 58, 10), "NEW ROCHELLE", 3, wallUTC(2026, 1, 3, 15, 27, 45), "WOODBURY", 15, 1, 3.31, "Y", "STANDARD", "E-ZPASS", 465.75},
			{"01/07/2026", "01/07/2026", nil, "E-ZPASS NY", "PAYMENT - THANK YOU", nil, nil, nil, nil, nil, nil, nil, nil, -1500, "Y", nil, nil, 1965.75},
			{wallUTC(2026, 3, 9, 0, 0, 0), wallUTC(2026, 3, 8, 0, 0, 0), "NY T123456C", "PANYNJ", "TOLL ADJUSTMENT", "HT04",
				nil, nil, nil, "02:30:00", "HOLLAND TUNNEL", 2, 1, -15.38, "Y", "STANDARD", "PLATE", 1981.13},
		},
	})
	got := readBytes(t, data, "statement.xlsx", Options{})
	if got.format != FormatC {
		t.Fatalf("format = %q", got.format)
	}
	for _, e := range got.errs {
		t.Errorf("unexpected row error: %v", e)
	}
	diffSummaries(t, summarise(got.rows), []summary{
		{4, "", "00812345679", "NYSTA", "WOODBURY", utc(2026, 1, 3, 20, 27, 45), date(2026, 1, 4), 331, KindToll},
		{5, "", "", "E-ZPASS NY", "", utc(2026, 1, 7, 5, 0, 0), date(2026, 1, 7), -150000, KindPayment},
		{6, "", "NY T123456C", "PANYNJ", "HOLLAND TUNNEL", utc(2026, 3, 8, 7, 30, 0), date(2026, 3, 9), -1538, KindCredit},
	})
}

func TestReadXLSXDate1904(t *testing.T) {
	t.Parallel()
	data := buildXLSX(t, workbook{
		date1904: true,
		rows: [][]any{
			headerCells(headerA),
			{1, "00812345678", "MTAB&T", "", "VERRAZANO", 1, wallUTC(2026, 1, 15, 8, 15, 22), nil, -6.94},
			{2, "00812345678", "MTAB&T", "", "VERRAZANO", 1},
		},
		// 44575 days after 1 January 1904 is 15 January 2026.
		raw: map[string]string{"G3": "44575.5", "I3": "-6.94"},
	})
	got := readBytes(t, data, "a.xlsx", Options{})
	if len(got.rows) != 2 || len(got.errs) > 0 {
		t.Fatalf("rows %d, errors %v", len(got.rows), got.errs)
	}
	for i, want := range []time.Time{utc(2026, 1, 15, 13, 15, 22), utc(2026, 1, 15, 17, 0, 0)} {
		if at := got.rows[i].TxnAt; !at.Equal(want) {
			t.Errorf("row %d TxnAt = %v; want %v", i, at.UTC(), want)
		}
	}
}

func TestReadXLSXFirstSheetAndGaps(t *testing.T) {
	t.Parallel()
	data := buildXLSX(t, workbook{
		extra:    true,
		startRow: 3,
		rows: [][]any{
			headerCells(headerB),
			{1, "00812345678", wallUTC(2026, 1, 3, 0, 0, 0), "MTAB&T", "", "VERRAZANO", 1, wallUTC(2026, 1, 2, 0, 0, 0), "07:42:13", "($6.94)", 100},
			nil,
			nil,
			{2, "00812345678", "1/3/2026", "MTAB&T", "", "VERRAZANO", 1, "1/2/2026", "07:43:13", 6.94, 100},
		},
	})
	r, err := Open(bytes.NewReader(data), int64(len(data)), "b.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format() != FormatB || r.FileKind() != FileXLSX {
		t.Errorf("Format %q, FileKind %q", r.Format(), r.FileKind())
	}
	got := readBytes(t, data, "b.xlsx", Options{})
	var lines []int
	var cents []int64
	for _, row := range got.rows {
		lines = append(lines, row.Line)
		cents = append(cents, row.AmountCents)
	}
	// Sheet rows 4 and 7: the numeric 6.94 in B is a credit (not in parentheses).
	if fmt.Sprint(lines, cents) != "[4 7] [694 -694]" || len(got.errs) > 0 {
		t.Errorf("lines %v, cents %v, errors %v; want rows 4 and 7, 694 and -694", lines, cents, got.errs)
	}
}

func TestReadXLSXRowErrors(t *testing.T) {
	t.Parallel()
	data := buildXLSX(t, workbook{
		rows: [][]any{
			headerCells(headerA),
			{1, "00812345678", "MTAB&T", "", "VERRAZANO", 1, "1/2/2026", "07:42:13", -6.94, nil, "note"},
			{2, "00812345678", "MTAB&T", "", "VERRAZANO", 1, "1/2/2026", "07:42:13", -6.945},
			{3, "00812345678", "MTAB&T", "", "VERRAZANO", 1, "1/32/2026", "07:42:13", -6.94},
			{4, "00812345678", "MTAB&T", "", "VERRAZANO", 1, 12.5, "07:42:13", -6.94},
			{5, "00812345678", "MTAB&T", "", "VERRAZANO", 1, "1/2/2026", 1.5e7, -6.94},
			{6, "00812345678", "MTAB&T", "", "VERRAZANO", 1, "1/2/2026", "07:42:13", "-6.94"},
		},
	})
	got := readBytes(t, data, "a.xlsx", Options{})
	want := []RowError{
		{Line: 2, Value: "note", Message: "This row has a value in column K, which has no header."},
		{Line: 3, Column: "Amount", Value: "-6.945", Message: "Amount '-6.945' is not a whole number of cents."},
		{Line: 4, Column: "Date", Value: "1/32/2026", Message: "Date '1/32/2026' is not a date like 1/15/2026."},
		{Line: 5, Column: "Date", Value: "12.5", Message: "Date '12.5' is not a date like 1/15/2026."},
		{Line: 6, Column: "Exit Time", Value: "15000000", Message: "Exit Time '15000000' is not a time like 8:15:22 AM."},
	}
	var gotErrs []RowError
	for _, e := range got.errs {
		gotErrs = append(gotErrs, *e)
	}
	if fmt.Sprint(gotErrs) != fmt.Sprint(want) {
		t.Errorf("row errors:\n got %+v\nwant %+v", gotErrs, want)
	}
	if len(got.rows) != 1 || got.rows[0].LaneTxnID != "6" || got.rows[0].AmountCents != 694 {
		t.Errorf("rows = %+v; want only row 6, a toll of 694", got.rows)
	}
}

func TestXLSXUnzipCap(t *testing.T) {
	t.Parallel()
	rows := [][]any{headerCells(headerA)}
	for i := range 2000 {
		rows = append(rows, []any{3000000000 + i, "00812345678", "MTAB&T", "", "VERRAZANO", 1, "1/2/2026", "07:42:13", -6.94})
	}
	data := buildXLSX(t, workbook{rows: rows})
	tests := []struct {
		name    string
		limit   int64
		wantMsg string
	}{
		{"unpacked size over the cap", 64 << 10,
			"This Excel file is too large to import: it unpacks to more than 64.0 KiB. Export a shorter date range, or export CSV instead, and try again."},
		{"file itself over the cap", 1 << 10,
			"This Excel file is too large to import: it unpacks to more than 1.0 KiB. Export a shorter date range, or export CSV instead, and try again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(bytes.NewReader(data), int64(len(data)), "big.xlsx", Options{MaxXLSXUnzipBytes: tt.limit})
			var fe *FileError
			if !errors.Is(err, ErrTooLarge) || !errors.As(err, &fe) || err.Error() != tt.wantMsg {
				t.Errorf("Open error = %v; want a FileError wrapping ErrTooLarge saying %q", err, tt.wantMsg)
			}
		})
	}
	t.Run("under the cap, with parts spilled to disk", func(t *testing.T) {
		t.Parallel()
		got := readBytes(t, data, "big.xlsx", Options{MaxXLSXUnzipBytes: 8 << 20, MaxXLSXXMLBytes: 4 << 10, TempDir: t.TempDir()})
		if len(got.rows) != 2000 || len(got.errs) > 0 {
			t.Errorf("rows %d, errors %d; want 2000 rows", len(got.rows), len(got.errs))
		}
	})
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	tests := map[int64]string{
		100: "100 bytes", 1536: "1.5 KiB", 64 << 20: "64.0 MiB", 1 << 30: "1 GiB", 3 << 30: "3 GiB", 1<<30 + 1: "1024.0 MiB",
	}
	for n, want := range tests {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q; want %q", n, got, want)
		}
	}
}
