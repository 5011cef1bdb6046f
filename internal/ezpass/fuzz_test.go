package ezpass

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// checkReader opens data and reads it to the end, checking the invariants
// that hold for any input: no panic, only the documented error types, and
// progress on every call so that reading always ends.
func checkReader(t *testing.T, data []byte, fileName string) {
	loc := time.FixedZone("EST", -5*3600)
	r, err := Open(bytes.NewReader(data), int64(len(data)), fileName, Options{
		Location: loc, MaxXLSXUnzipBytes: 8 << 20, MaxLineBytes: 4 << 10,
	})
	if err != nil {
		var fileErr *FileError
		var formatErr *FormatError
		if !errors.As(err, &fileErr) && !errors.As(err, &formatErr) {
			t.Fatalf("Open error %T: %v", err, err)
		}
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
		return
	}
	defer r.Close()
	switch r.Format() {
	case FormatA, FormatB, FormatC:
	default:
		t.Fatalf("Format() = %q", r.Format())
	}
	// A CSV row takes at least one byte; a workbook has at most 1,048,576 rows.
	limit := len(data) + 2
	if r.FileKind() == FileXLSX {
		limit = 1_048_577
	}
	lastLine := 0
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("more than %d calls to Next", limit)
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			if rowErr.Message == "" || rowErr.Line < 1 {
				t.Fatalf("row error %+v", rowErr)
			}
			continue
		}
		if err != nil {
			var fileErr *FileError
			if !errors.As(err, &fileErr) {
				t.Fatalf("Next error %T: %v", err, err)
			}
			return
		}
		if row.Line <= lastLine {
			t.Fatalf("line %d after line %d", row.Line, lastLine)
		}
		lastLine = row.Line
		switch row.Kind {
		case KindToll, KindCredit, KindPayment, KindTagFee, KindExcluded:
		default:
			t.Fatalf("Kind = %q", row.Kind)
		}
		if row.TxnAt.IsZero() || row.TxnAt.Location() != loc {
			t.Fatalf("TxnAt = %v", row.TxnAt)
		}
		if (row.Kind == KindToll && row.AmountCents < 0) || (row.Kind == KindCredit && row.AmountCents >= 0) {
			t.Fatalf("kind %s with amount %d", row.Kind, row.AmountCents)
		}
		if row.Tag != "" && (row.Plate != "" || !allDigits(row.Tag)) {
			t.Fatalf("tag %q with plate %q", row.Tag, row.Plate)
		}
		if len(row.Fingerprint()) != 64 {
			t.Fatal("fingerprint is not 64 hex digits")
		}
		if _, err := row.Raw.MarshalJSON(); err != nil {
			t.Fatalf("raw values do not encode: %v", err)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	for _, name := range []string{"format_a.csv", "format_b.csv", "format_c.csv"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		headerA + "\n2960411718,00812345678,MTAB&T,,VERRAZANO,1,01/02/2026,07:42:13 AM,$-6.94\n",
		headerA + "\r\n,NY T123456C,PANYNJ,,\"GWB, UPPER\",1,1/3/26,23:59,\"($1,016.06)\"\r\n",
		"\ufeff" + headerB + "\n1,008 1234 5678,1/3/26,MTAB&T,,VERRAZANO,1,1/2/26,07:42:13,($6.94),$10\n",
		headerC + "\n1/3/2026,1/2/2026,,E-ZPASS NY,PAYMENT - THANK YOU,,,,,01/02/2026 08:15:22 AM,,,,-$1500,Y,,,$0\n",
		headerA + "\n1,2,3\n\"unterminated\n",
		headerA + "\n1,00812345678,CBDTP,,CBDTP,1,3/8/2026,2:30 AM,$-9.00,extra\n",
		"title\n\n" + headerA + "\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, data, "export.csv")
	})
}

// fuzzWorkbooks are the seed workbooks of the XLSX fuzz targets.
func fuzzWorkbooks(f *testing.F) [][]byte {
	return [][]byte{
		buildXLSX(f, workbook{rows: [][]any{
			headerCells(headerA),
			{2960411718, "00812345678", "MTAB&T", "", "VERRAZANO", 1, wallUTC(2026, 1, 2, 0, 0, 0), clock(7, 42, 13), -6.94},
			{"2960411832", "NY T123456C", "MTAB&T", "", "PAYMENT", "1", "1/2/2026", "6:05:51 PM", "$1,500.00"},
		}}),
		buildXLSX(f, workbook{date1904: true, rows: [][]any{
			{"title"},
			headerCells(strings.Replace(headerC, "PLAZA ID,", "", 1)),
			{wallUTC(2026, 1, 4, 0, 0, 0), wallUTC(2026, 1, 3, 0, 0, 0), "00812345679", "CBDTP", "TOLL", nil, "NEW ROCHELLE", 3,
				wallUTC(2026, 1, 3, 15, 27, 45), "60TH ST", 15, 1, 9, "Y", "PEAK", "E-ZPASS", 100},
		}}),
	}
}

// FuzzXLSXReader mutates whole workbook files: mostly damaged archives.
func FuzzXLSXReader(f *testing.F) {
	for _, wb := range fuzzWorkbooks(f) {
		f.Add(wb)
	}
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, data, "export.xlsx")
	})
}

// FuzzXLSXSheet mutates the first worksheet's XML inside an otherwise valid
// workbook, to reach the cell parsing behind the archive's checksums.
func FuzzXLSXSheet(f *testing.F) {
	const part = "xl/worksheets/sheet1.xml"
	base := fuzzWorkbooks(f)[0]
	for _, wb := range fuzzWorkbooks(f) {
		f.Add(zipPart(f, wb, part))
	}
	f.Add([]byte(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1048577"><c r="A1" t="s"><v>99</v></c></row></sheetData></worksheet>`))
	f.Fuzz(func(t *testing.T, sheet []byte) {
		checkReader(t, replaceZipPart(t, base, part, sheet), "export.xlsx")
	})
}

// zipPart returns one file of a zip archive.
func zipPart(t testing.TB, archive []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceZipPart returns a copy of a zip archive with one file's content replaced.
func replaceZipPart(t testing.TB, archive []byte, name string, content []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name == name {
			_, err = w.Write(content)
		} else {
			var rc io.ReadCloser
			if rc, err = zf.Open(); err == nil {
				_, err = io.Copy(w, rc)
				rc.Close()
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"$9.11", "($9.11)", "$-9.11", "-$1,234.56", " $ 9 ", "12..3", "(-1)", "1,23"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cents, err := ParseAmount(s)
		if err != nil {
			return
		}
		// Whatever was accepted reads back the same from its canonical form.
		back, err := ParseAmount(formatCents(cents))
		if err != nil || back != cents {
			t.Fatalf("ParseAmount(%q) = %d, but %q reads as %d, %v", s, cents, formatCents(cents), back, err)
		}
		if cents > 1e17 || cents < -1e17 {
			t.Fatalf("ParseAmount(%q) = %d, beyond 15 dollar digits", s, cents)
		}
	})
}
