package ezpass

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// summary is the part of a Row most tests compare.
type summary struct {
	Line    int
	ID      string
	Vehicle string
	Agency  string
	Plaza   string
	At      time.Time // UTC
	Posted  time.Time
	Cents   int64
	Kind    Kind
}

func summarise(rows []Row) []summary {
	out := make([]summary, len(rows))
	for i, r := range rows {
		out[i] = summary{
			Line: r.Line, ID: r.LaneTxnID, Vehicle: r.PlateOrTag(), Agency: r.Agency, Plaza: r.PlazaName(),
			At: r.TxnAt.UTC(), Posted: r.PostedOn, Cents: r.AmountCents, Kind: r.Kind,
		}
	}
	return out
}

func diffSummaries(t *testing.T, got, want []summary) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReadSampleFiles(t *testing.T) {
	t.Parallel()
	var zero time.Time
	tests := []struct {
		file       string
		wantFormat Format
		want       []summary
	}{
		{
			file: "format_a.csv", wantFormat: FormatA,
			want: []summary{
				{2, "2960411718", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 2, 12, 42, 13), zero, 694, KindToll},
				{3, "2960411832", "00812345678", "MTAB&T", "RFK TRIBOROUGH", utc(2026, 1, 2, 23, 5, 51), zero, 694, KindToll},
				{4, "2960502119", "NY T123456C", "PANYNJ", "GWB UPPER", utc(2026, 1, 3, 16, 18, 2), zero, 1606, KindToll},
				{5, "2960502250", "00812345679", "NYSTA", "WOODBURY", utc(2026, 1, 3, 20, 27, 45), zero, 331, KindToll},
				{6, "2960610004", "00812345679", "CBDTP", "CBDTP", utc(2026, 1, 5, 13, 31, 10), zero, 900, KindExcluded},
				{7, "2960610177", "NY T654321C", "MTAB&T", "HUGH L CAREY TUNNEL", utc(2026, 1, 5, 14, 12, 40), zero, 694, KindToll},
				{8, "2960700051", "00812345680", "PANYNJ", "GOETHALS BRIDGE, EB", utc(2026, 1, 6, 22, 46, 8), zero, 1538, KindToll},
				{9, "2960700999", "", "E-ZPASS NY", "PAYMENT", utc(2026, 1, 7, 5, 0, 0), zero, -150000, KindPayment},
				{10, "2960800330", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 8, 12, 40, 55), zero, -694, KindCredit},
				{11, "2960800331", "", "E-ZPASS NY", "TAG LEASING FEE", utc(2026, 1, 10, 5, 0, 0), zero, 100, KindTagFee},
				{12, "2960911442", "NJ A123BCD", "NJTP", "18W GWB", utc(2026, 1, 12, 3, 2, 33), zero, 485, KindToll},
				{13, "2961000076", "00812345681", "CBDTP", "60TH ST", utc(2026, 1, 12, 13, 3, 19), zero, 900, KindExcluded},
				{14, "2961000101", "00812345681", "MTAB&T", "THROGS NECK", utc(2026, 1, 13, 2, 15, 0), zero, 694, KindToll},
			},
		},
		{
			// BOM, CRLF, M/D/YY, 24-hour times, parentheses, spring-forward gap.
			file: "format_b.csv", wantFormat: FormatB,
			want: []summary{
				{2, "3170100012", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 2, 12, 42, 13), date(2026, 1, 3), 694, KindToll},
				{3, "3170100013", "00812345678", "MTAB&T", "RFK TRIBOROUGH", utc(2026, 1, 2, 23, 5, 51), date(2026, 1, 3), 694, KindToll},
				{4, "3170100102", "NY T123456C", "PANYNJ", "GWB UPPER", utc(2026, 1, 3, 16, 18, 2), date(2026, 1, 4), 1606, KindToll},
				{5, "3170100150", "00812345679", "NYSTA", "WOODBURY", utc(2026, 1, 3, 20, 27, 45), date(2026, 1, 4), 331, KindToll},
				{6, "3170100201", "00812345679", "CBDTP", "CBDTP", utc(2026, 1, 5, 13, 31, 10), date(2026, 1, 6), 900, KindExcluded},
				{7, "3170100240", "NY T654321C", "MTAB&T", "HUGH L CAREY TUNNEL", utc(2026, 1, 5, 14, 12, 0), date(2026, 1, 6), 694, KindToll},
				{8, "3170100301", "", "E-ZPASS NY", "PAYMENT", utc(2026, 1, 7, 5, 0, 0), date(2026, 1, 7), -150000, KindPayment},
				{9, "3170100355", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 8, 12, 40, 55), date(2026, 1, 9), -694, KindCredit},
				{10, "3170100410", "", "E-ZPASS NY", "", utc(2026, 1, 10, 5, 0, 0), date(2026, 1, 10), 100, KindTagFee},
				{11, "3170100477", "NJ A123BCD", "NJTP", "18W GWB", utc(2026, 1, 12, 3, 2, 33), date(2026, 1, 12), 485, KindToll},
				{12, "3170100502", "00812345681", "CBDTP", "60TH ST", utc(2026, 1, 12, 13, 3, 19), date(2026, 1, 13), 900, KindExcluded},
				{13, "3170100560", "00812345681", "MTAB&T", "THROGS NECK", utc(2026, 1, 13, 2, 15, 0), date(2026, 1, 13), 694, KindToll},
				{14, "3170100561", "00812345680", "PANYNJ", "HOLLAND TUNNEL", utc(2026, 3, 8, 7, 30, 0), date(2026, 3, 9), 1538, KindToll},
			},
		},
		{
			// Combined date-time cells, entry time only, fall-back hour.
			file: "format_c.csv", wantFormat: FormatC,
			want: []summary{
				{2, "", "", "E-ZPASS NY", "", utc(2026, 1, 1, 5, 0, 0), date(2026, 1, 1), 100, KindTagFee},
				{3, "", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 2, 12, 42, 13), date(2026, 1, 3), 694, KindToll},
				{4, "", "00812345678", "MTAB&T", "RFK TRIBOROUGH", utc(2026, 1, 2, 23, 5, 51), date(2026, 1, 3), 694, KindToll},
				{5, "", "NY T123456C", "PANYNJ", "GWB UPPER", utc(2026, 1, 3, 16, 18, 2), date(2026, 1, 4), 1606, KindToll},
				{6, "", "00812345679", "NYSTA", "WOODBURY", utc(2026, 1, 3, 20, 27, 45), date(2026, 1, 4), 331, KindToll},
				{7, "", "00812345679", "CBDTP", "60TH ST", utc(2026, 1, 5, 13, 31, 10), date(2026, 1, 6), 900, KindExcluded},
				{8, "", "NY T654321C", "MTAB&T", "HUGH L CAREY TUNNEL", utc(2026, 1, 5, 14, 12, 40), date(2026, 1, 6), 694, KindToll},
				{9, "", "", "E-ZPASS NY", "", utc(2026, 1, 7, 5, 0, 0), date(2026, 1, 7), -150000, KindPayment},
				{10, "", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 8, 12, 40, 55), date(2026, 1, 9), -694, KindCredit},
				{11, "", "NJ A123BCD", "NJTP", "18W GWB", utc(2026, 1, 12, 3, 2, 33), date(2026, 1, 12), 485, KindToll},
				{12, "", "00812345681", "CBDTP", "60TH ST", utc(2026, 1, 12, 13, 3, 19), date(2026, 1, 13), 900, KindExcluded},
				{13, "", "00812345681", "MTAB&T", "THROGS NECK", utc(2026, 1, 13, 2, 15, 0), date(2026, 1, 13), 694, KindToll},
				{14, "", "00812345680", "PANYNJ", "HT04", utc(2026, 11, 1, 5, 30, 0), date(2026, 11, 2), 1538, KindToll},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got := readBytes(t, data, tt.file, Options{})
			if got.format != tt.wantFormat || got.kind != FileCSV {
				t.Errorf("format, kind = %q, %q; want %q, csv", got.format, got.kind, tt.wantFormat)
			}
			for _, e := range got.errs {
				t.Errorf("unexpected row error: %v", e)
			}
			diffSummaries(t, summarise(got.rows), tt.want)
		})
	}
}

func TestReadFullRow(t *testing.T) {
	t.Parallel()
	got := readCSV(t,
		"Lane Txn ID,Tag/Plate #,Agency,Entry Plaza,Exit Plaza,Class,Date,Exit Time,Amount,Notes",
		`2960502250, NY-T12 3456C ,NYSTA,NEW ROCHELLE, WOODBURY ,1,01/03/2026,3:27:45 PM,$-3.31,"seen twice, check"`,
	)
	if len(got.rows) != 1 {
		t.Fatalf("got %d rows, %v", len(got.rows), got.errs)
	}
	row := got.rows[0]
	row.TxnAt = row.TxnAt.UTC()
	want := Row{
		Line: 2, LaneTxnID: "2960502250", TagOrPlate: "NY-T12 3456C", PlateState: "NY", Plate: "T123456C",
		Agency: "NYSTA", EntryPlaza: "NEW ROCHELLE", ExitPlaza: "WOODBURY", Class: "1",
		TxnAt: utc(2026, 1, 3, 20, 27, 45), AmountCents: 331, Kind: KindToll,
		Raw: RawValues{
			{"Lane Txn ID", "2960502250"}, {"Tag/Plate #", " NY-T12 3456C "}, {"Agency", "NYSTA"},
			{"Entry Plaza", "NEW ROCHELLE"}, {"Exit Plaza", " WOODBURY "}, {"Class", "1"}, {"Date", "01/03/2026"},
			{"Exit Time", "3:27:45 PM"}, {"Amount", "$-3.31"}, {"Notes", "seen twice, check"},
		},
	}
	if !rowsEqual(row, want) {
		t.Errorf("row:\n got %+v\nwant %+v", row, want)
	}
}

func rowsEqual(a, b Row) bool { return reflect.DeepEqual(a, b) }

func TestReadCSVVariants(t *testing.T) {
	t.Parallel()
	const (
		row1 = `2960411718,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,$-6.94`
		row2 = `2960411832,NY T123456C,MTAB&T,,RFK TRIBOROUGH,1,1/2/2026,6:05 PM,"$-1,006.94"`
	)
	want := []summary{
		{0, "2960411718", "00812345678", "MTAB&T", "VERRAZANO", utc(2026, 1, 2, 12, 42, 13), time.Time{}, 694, KindToll},
		{0, "2960411832", "NY T123456C", "MTAB&T", "RFK TRIBOROUGH", utc(2026, 1, 2, 23, 5, 0), time.Time{}, 100694, KindToll},
	}
	quoteAll := func(line string) string {
		cells := strings.Split(strings.ReplaceAll(line, `"$-1,006.94"`, "$-1;006.94"), ",")
		for i, c := range cells {
			cells[i] = `"` + strings.ReplaceAll(c, ";", ",") + `"`
		}
		return strings.Join(cells, ",")
	}
	tests := []struct {
		name      string
		data      string
		wantLines []int
	}{
		{"LF", headerA + "\n" + row1 + "\n" + row2 + "\n", []int{2, 3}},
		{"CRLF", headerA + "\r\n" + row1 + "\r\n" + row2 + "\r\n", []int{2, 3}},
		{"BOM and CRLF", "\ufeff" + headerA + "\r\n" + row1 + "\r\n" + row2 + "\r\n", []int{2, 3}},
		{"no final newline", headerA + "\n" + row1 + "\n" + row2, []int{2, 3}},
		{"blank lines and empty rows", "\n" + headerA + "\n\n" + row1 + "\n,,,,,,,,\n\r\n" + row2 + "\n\n", []int{4, 7}},
		{"every field quoted", quoteAll(headerA) + "\n" + quoteAll(row1) + "\n" + quoteAll(row2) + "\n", []int{2, 3}},
		{"trailing comma", headerA + ",\n" + row1 + ",\n" + row2 + ",\n", []int{2, 3}},
		{"trailing commas on the header only", headerA + ",,\n" + row1 + "\n" + row2 + "\n", []int{2, 3}},
		{
			"title rows before the header",
			"E-ZPass New York Customer Service Center\nTransaction report,01/01/2026 - 01/31/2026\n\n" +
				headerA + "\n" + row1 + "\n" + row2 + "\n",
			[]int{5, 6},
		},
		{
			"nine title rows is the most",
			strings.Repeat("title\n", 9) + headerA + "\n" + row1 + "\n" + row2 + "\n",
			[]int{11, 12},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := readBytes(t, []byte(tt.data), "export.csv", Options{})
			if got.format != FormatA || len(got.errs) > 0 {
				t.Fatalf("format %q, errors %v", got.format, got.errs)
			}
			sums := summarise(got.rows)
			var lines []int
			for i := range sums {
				lines = append(lines, sums[i].Line)
				sums[i].Line = 0
			}
			if !slices.Equal(lines, tt.wantLines) {
				t.Errorf("lines = %v; want %v", lines, tt.wantLines)
			}
			diffSummaries(t, sums, want)
		})
	}
}

func TestReadCSVQuotedFields(t *testing.T) {
	t.Parallel()
	got := readCSV(t,
		headerA,
		`1,00812345678,PANYNJ,,"GOETHALS BRIDGE, EB",1,1/6/2026,5:46:08 PM,$-15.38`,
		`2,00812345678,PANYNJ,,"the ""old"" bridge",1,1/6/2026,5:47:08 PM,$-15.38`,
		`3,00812345678,PANYNJ,,"GEORGE WASHINGTON`,
		`BRIDGE",1,1/6/2026,5:48:08 PM,$-15.38`,
		`4,00812345678,PANYNJ,,LINCOLN TUNNEL,1,1/6/2026,5:49:08 PM,$-15.38`,
	)
	if len(got.errs) > 0 {
		t.Fatalf("row errors: %v", got.errs)
	}
	var plazas []string
	var lines []int
	for _, r := range got.rows {
		plazas = append(plazas, r.ExitPlaza)
		lines = append(lines, r.Line)
	}
	wantPlazas := []string{"GOETHALS BRIDGE, EB", `the "old" bridge`, "GEORGE WASHINGTON\nBRIDGE", "LINCOLN TUNNEL"}
	if !slices.Equal(plazas, wantPlazas) || !slices.Equal(lines, []int{2, 3, 4, 6}) {
		t.Errorf("plazas %q on lines %v; want %q on 2, 3, 4, 6", plazas, lines, wantPlazas)
	}
}

func TestReadRowErrors(t *testing.T) {
	t.Parallel()
	got := readCSV(t,
		headerA,
		`1,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,$-6.94`,
		`2,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,12..3`,
		`3,00812345678,MTAB&T,,VERRAZANO,1,13/45/2026,07:42:13 AM,$-6.94`,
		`4,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,25:99,$-6.94`,
		`5,00812345678,MTAB&T,,VERRAZANO,1,,07:42:13 AM,$-6.94`,
		`6,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,`,
		`7,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM`,
		`8,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,$-6,94`,
		`9,00812345678,MTAB&T,,VERRA"ZANO,1,1/2/2026,07:42:13 AM,$-6.94`,
		`10,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,$-6.94,,`,
		`11,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,$-6.94`,
	)
	wantErrs := []RowError{
		{Line: 3, Column: "Amount", Value: "12..3", Message: "Amount '12..3' is not a dollar amount like $9.11."},
		{Line: 4, Column: "Date", Value: "13/45/2026", Message: "Date '13/45/2026' is not a date like 1/15/2026."},
		{Line: 5, Column: "Exit Time", Value: "25:99", Message: "Exit Time '25:99' is not a time like 8:15:22 AM."},
		{Line: 6, Column: "Date", Message: "Date is empty."},
		{Line: 7, Column: "Amount", Message: "Amount is empty."},
		{Line: 8, Message: "This line has 8 values but the header has 9 columns; check for a missing or extra comma or quote."},
		{Line: 9, Message: "This line has 10 values but the header has 9 columns; check for a missing or extra comma or quote."},
		{Line: 10, Message: `This line could not be read: a quote character (") appears inside a value that is not in quotes.`},
	}
	var gotErrs []RowError
	for _, e := range got.errs {
		gotErrs = append(gotErrs, *e)
	}
	if !slices.Equal(gotErrs, wantErrs) {
		t.Errorf("row errors:\n got %+v\nwant %+v", gotErrs, wantErrs)
	}
	var ids []string
	for _, r := range got.rows {
		ids = append(ids, r.LaneTxnID)
	}
	if !slices.Equal(ids, []string{"1", "10", "11"}) {
		t.Errorf("rows read = %v; want 1, 10 and 11 around the bad ones", ids)
	}
	if e := got.errs[0].Error(); e != "row 3: Amount '12..3' is not a dollar amount like $9.11." {
		t.Errorf("Error() = %q", e)
	}
}

func TestRowErrorCarriesRawValues(t *testing.T) {
	t.Parallel()
	data := headerA + "\n" + `1,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13 AM,twelve` + "\n"
	r, err := Open(strings.NewReader(data), int64(len(data)), "a.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	row, err := r.Next()
	var rowErr *RowError
	if !errors.As(err, &rowErr) {
		t.Fatalf("Next error = %v; want a *RowError", err)
	}
	if v, _ := row.Raw.Get("Amount"); row.Line != 2 || v != "twelve" || len(row.Raw) != 9 {
		t.Errorf("row with error = line %d, raw %v; want line 2 with the original cells", row.Line, row.Raw)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the bad row = %v; want io.EOF", err)
	}
}

func TestSignRules(t *testing.T) {
	t.Parallel()
	line := func(f Format, amount string) []string {
		switch f {
		case FormatA:
			return []string{headerA, `1,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13,"` + amount + `"`}
		case FormatB:
			return []string{headerB, `1,00812345678,1/3/2026,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13,"` + amount + `",$100.00`}
		default:
			return []string{headerC, `1/3/2026,1/2/2026,00812345678,MTAB&T,TOLL,,,,,07:42:13,VERRAZANO,,1,"` + amount + `",Y,,,$100.00`}
		}
	}
	tests := []struct {
		format    Format
		amount    string
		wantCents int64
		wantKind  Kind
	}{
		{FormatA, "$-9.11", 911, KindToll},
		{FormatA, "-$9.11", 911, KindToll},
		{FormatA, "($9.11)", 911, KindToll},
		{FormatA, "$9.11", -911, KindCredit},
		{FormatA, "$0.00", 0, KindToll},
		{FormatB, "($9.11)", 911, KindToll},
		{FormatB, "$-9.11", 911, KindToll},
		{FormatB, "$9.00", -900, KindCredit},
		{FormatB, "($1,234.56)", 123456, KindToll},
		{FormatC, "$9.11", 911, KindToll},
		{FormatC, "-$9.11", -911, KindCredit},
		{FormatC, "($9.11)", -911, KindCredit},
	}
	for _, tt := range tests {
		t.Run(string(tt.format)+" "+tt.amount, func(t *testing.T) {
			t.Parallel()
			got := readCSV(t, line(tt.format, tt.amount)...)
			if got.format != tt.format || len(got.rows) != 1 {
				t.Fatalf("format %q, %d rows, errors %v", got.format, len(got.rows), got.errs)
			}
			if r := got.rows[0]; r.AmountCents != tt.wantCents || r.Kind != tt.wantKind {
				t.Errorf("amount %q in %s = %d %s; want %d %s", tt.amount, tt.format, r.AmountCents, r.Kind, tt.wantCents, tt.wantKind)
			}
		})
	}
}

func TestReadFormatCTimes(t *testing.T) {
	t.Parallel()
	header := strings.Replace(strings.Replace(headerC, "ACTIVITY", "DESCRIPTION", 1), "PLAZA ID,", "", 1)
	row := func(txnDate, entry, exit string) string {
		return "1/3/2026," + txnDate + ",00812345678,NYSTA,TOLL," + entry + ",NEW ROCHELLE,3," + exit + ",WOODBURY,15,1,$3.31,Y,,,$100.00"
	}
	tests := []struct {
		name             string
		txnDate          string
		entry, exit      string
		want             time.Time
		wantErr          string
		wantActivityRead bool
	}{
		{name: "exit time", txnDate: "1/2/2026", entry: "2:58:10 PM", exit: "3:27:45 PM", want: utc(2026, 1, 2, 20, 27, 45)},
		{name: "entry time when no exit", txnDate: "1/2/2026", entry: "2:58:10 PM", want: utc(2026, 1, 2, 19, 58, 10)},
		{name: "combined exit date-time", txnDate: "1/2/2026", exit: "01/03/2026 12:05:00 AM", want: utc(2026, 1, 3, 5, 5, 0)},
		{name: "combined without transaction date", exit: "01/03/2026 00:05", want: utc(2026, 1, 3, 5, 5, 0)},
		{name: "no time is midnight", txnDate: "1/2/26", want: utc(2026, 1, 2, 5, 0, 0)},
		{name: "ISO", txnDate: "2026-01-02", exit: "2026-01-02T15:27:45", want: utc(2026, 1, 2, 20, 27, 45)},
		{name: "time without any date", exit: "3:27:45 PM", wantErr: "TRANSACTION DATE is empty."},
		{name: "bad exit time", txnDate: "1/2/2026", exit: "3:27:45 XM", wantErr: "EXIT TIME '3:27:45 XM' is not a time like 8:15:22 AM."},
		{name: "bad entry time", txnDate: "1/2/2026", entry: "noon", wantErr: "ENTRY TIME 'noon' is not a time like 8:15:22 AM."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := readCSV(t, header, row(tt.txnDate, tt.entry, tt.exit))
			if got.format != FormatC {
				t.Fatalf("format = %q", got.format)
			}
			if tt.wantErr != "" {
				if len(got.errs) != 1 || got.errs[0].Message != tt.wantErr {
					t.Errorf("errors = %v; want %q", got.errs, tt.wantErr)
				}
				return
			}
			if len(got.rows) != 1 {
				t.Fatalf("rows %d, errors %v", len(got.rows), got.errs)
			}
			if r := got.rows[0]; !r.TxnAt.Equal(tt.want) || r.Activity != "TOLL" {
				t.Errorf("TxnAt = %v, Activity %q; want %v, TOLL", r.TxnAt.UTC(), r.Activity, tt.want)
			}
		})
	}
}

func TestPostedDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		posted  string
		want    time.Time
		wantErr string
	}{
		{posted: "1/3/26", want: date(2026, 1, 3)},
		{posted: "2026-01-03", want: date(2026, 1, 3)},
		{posted: "", want: time.Time{}},
		{posted: "yesterday", wantErr: "Posted Date 'yesterday' is not a date like 1/15/2026."},
		{posted: "7:00 AM", wantErr: "Posted Date '7:00 AM' is not a date like 1/15/2026."},
	}
	for _, tt := range tests {
		t.Run(tt.posted, func(t *testing.T) {
			t.Parallel()
			got := readCSV(t, headerB, `1,00812345678,`+tt.posted+`,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13,($6.94),$100.00`)
			if tt.wantErr != "" {
				if len(got.errs) != 1 || got.errs[0].Message != tt.wantErr || got.errs[0].Column != "Posted Date" {
					t.Errorf("errors = %+v; want %q", got.errs, tt.wantErr)
				}
				return
			}
			if len(got.rows) != 1 || !got.rows[0].PostedOn.Equal(tt.want) {
				t.Errorf("rows %+v, errors %v; want PostedOn %v", got.rows, got.errs, tt.want)
			}
		})
	}
}

func TestOptionsLocation(t *testing.T) {
	t.Parallel()
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip(err)
	}
	data := headerA + "\n1,00812345678,MTAB&T,,VERRAZANO,1,1/15/2026,8:15:22 AM,$-6.94\n"
	got := readBytes(t, []byte(data), "a.csv", Options{Location: chicago})
	if len(got.rows) != 1 || !got.rows[0].TxnAt.Equal(utc(2026, 1, 15, 14, 15, 22)) {
		t.Errorf("rows = %+v; want 8:15:22 AM Chicago time (14:15:22 UTC)", got.rows)
	}
	if loc := got.rows[0].TxnAt.Location(); loc != chicago {
		t.Errorf("TxnAt location = %v; want America/Chicago", loc)
	}
}

func TestOptionsExclusions(t *testing.T) {
	t.Parallel()
	data := []byte(headerA + "\n" +
		"1,00812345678,CBDTP,,60TH ST,1,1/5/2026,8:31:10 AM,$-9.00\n" +
		"2,00812345678,PANYNJ,,HOLLAND TUNNEL,1,1/5/2026,9:31:10 AM,$-15.38\n")
	tests := []struct {
		name  string
		rules []ExclusionRule
		want  []Kind
	}{
		{"nil means defaults", nil, []Kind{KindExcluded, KindToll}},
		{"empty means none", []ExclusionRule{}, []Kind{KindToll, KindToll}},
		{"custom", []ExclusionRule{{Plaza: "Holland Tunnel", Reason: "paid by the garage"}}, []Kind{KindToll, KindExcluded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := readBytes(t, data, "a.csv", Options{Exclusions: tt.rules})
			var kinds []Kind
			for _, r := range got.rows {
				kinds = append(kinds, r.Kind)
			}
			if !slices.Equal(kinds, tt.want) {
				t.Errorf("kinds = %v; want %v", kinds, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		data       string
		fileName   string
		opts       Options
		wantMsg    string // the error message starts with this
		wantType   any
		wantTooBig bool
	}{
		{name: "empty", data: "", fileName: "a.csv", wantType: &FormatError{}, wantMsg: "This file is empty: it has no header row."},
		{name: "blank lines only", data: "\n\r\n,,,\n", fileName: "a.csv", wantType: &FormatError{}, wantMsg: "This file is empty"},
		{name: "not an export", data: "Name,Email\nA,a@example.com\n", fileName: "a.csv", wantType: &FormatError{},
			wantMsg: "This file is not a known E-ZPass export: missing columns Lane Txn ID, Tag/Plate #, Agency"},
		{name: "header after ten title rows", data: strings.Repeat("title\n", 10) + headerA + "\n", fileName: "a.csv", wantType: &FormatError{},
			wantMsg: "This file is not a known E-ZPass export: missing columns"},
		{name: "near miss is reported over title rows", data: "Report\n" + strings.Replace(headerA, "Exit Time", "Exit Tme", 1) + "\n",
			fileName: "a.csv", wantType: &FormatError{}, wantMsg: "This file is not a known E-ZPass export: missing column Exit Time (found: Lane Txn ID,"},
		{name: "old xls", data: "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", fileName: "report.xls", wantType: &FileError{},
			wantMsg: "This is an old-style Excel (.xls) or password-protected workbook."},
		{name: "xlsx name, text content", data: headerA + "\n", fileName: "report.XLSX", wantType: &FileError{},
			wantMsg: "This file is named like an Excel workbook but is not one."},
		{name: "UTF-16", data: "\xff\xfeL\x00a\x00", fileName: "a.csv", wantType: &FileError{},
			wantMsg: "This file is saved as UTF-16 (\"Unicode\") text."},
		{name: "header line too long", data: strings.Repeat("x", 200) + "\n", fileName: "a.csv", opts: Options{MaxLineBytes: 100},
			wantType: &FileError{}, wantMsg: "This file has a line longer than 100 bytes", wantTooBig: true},
		{name: "damaged xlsx", data: "PK\x03\x04garbage", fileName: "a.xlsx", wantType: &FileError{},
			wantMsg: "This Excel file could not be read; it may be damaged."},
		{name: "rule without agency or plaza", data: headerA + "\n", fileName: "a.csv", opts: Options{Exclusions: []ExclusionRule{{Reason: "x"}}},
			wantMsg: "ezpass: exclusion rule 1 names neither an agency nor a plaza"},
		{name: "negative limit", data: headerA + "\n", fileName: "a.csv", opts: Options{MaxLineBytes: -1},
			wantMsg: "ezpass: size limits must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(strings.NewReader(tt.data), int64(len(tt.data)), tt.fileName, tt.opts)
			if err == nil {
				r.Close()
				t.Fatalf("Open succeeded; want an error starting %q", tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("error = %q; want it to start with %q", err, tt.wantMsg)
			}
			switch tt.wantType.(type) {
			case *FormatError:
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Errorf("error %T; want *FormatError", err)
				}
			case *FileError:
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Errorf("error %T; want *FileError", err)
				}
			}
			if got := errors.Is(err, ErrTooLarge); got != tt.wantTooBig {
				t.Errorf("errors.Is(err, ErrTooLarge) = %t; want %t", got, tt.wantTooBig)
			}
		})
	}
}

func TestLineTooLongAfterHeaderIsFinal(t *testing.T) {
	t.Parallel()
	data := headerA + "\n1,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13,$-6.94\n" + strings.Repeat("y", 300) + "\n"
	r, err := Open(strings.NewReader(data), int64(len(data)), "a.csv", Options{MaxLineBytes: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatalf("first row: %v", err)
	}
	_, err1 := r.Next()
	_, err2 := r.Next()
	if !errors.Is(err1, ErrTooLarge) || err2 != err1 {
		t.Errorf("Next = %v, then %v; want the same ErrTooLarge error twice", err1, err2)
	}
}

func TestNextAfterEOFAndClose(t *testing.T) {
	t.Parallel()
	data := headerA + "\n"
	r, err := Open(strings.NewReader(data), int64(len(data)), "a.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("Next = %v; want io.EOF", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestReaderAccessors(t *testing.T) {
	t.Parallel()
	data := "\ufeff" + strings.ReplaceAll(headerB, ",", " , ") + ",,Notes,Notes (2),Notes\n"
	r, err := Open(strings.NewReader(data), int64(len(data)), "b.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wantHeader := append(strings.Split(headerB, ","), "Column 12", "Notes", "Notes (2)", "Notes (3)")
	if r.Format() != FormatB || r.FileKind() != FileCSV || !slices.Equal(r.Header(), wantHeader) {
		t.Errorf("Format %q, FileKind %q, Header %q; want B, csv, %q", r.Format(), r.FileKind(), r.Header(), wantHeader)
	}
	if FormatB.Description() != "transaction report with posting date" || Format("Z").Description() != "unknown format" {
		t.Errorf("Description = %q, %q", FormatB.Description(), Format("Z").Description())
	}
}

func TestInvalidTextIsCleaned(t *testing.T) {
	t.Parallel()
	data := headerA + "\n1,00812345678,MTA\xffB\x00&T,,VERRAZANO,1,1/2/2026,07:42:13,$-6.94\n"
	got := readBytes(t, []byte(data), "a.csv", Options{})
	if len(got.rows) != 1 {
		t.Fatalf("rows %d, errors %v", len(got.rows), got.errs)
	}
	if a := got.rows[0].Agency; a != "MTA\uFFFDB&T" {
		t.Errorf("Agency = %q; want invalid UTF-8 replaced and NUL dropped", a)
	}
	if v, _ := got.rows[0].Raw.Get("Agency"); v != "MTA\uFFFDB&T" {
		t.Errorf("Raw Agency = %q", v)
	}
}

func TestRawValuesJSON(t *testing.T) {
	t.Parallel()
	raw := RawValues{{"Lane Txn ID", "1"}, {"Tag/Plate #", "NY T123456C"}, {"Amount", `$-9.11 "x"`}, {"Agency", "MTA\u00e9"}}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Lane Txn ID":"1","Tag/Plate #":"NY T123456C","Amount":"$-9.11 \"x\"","Agency":"MTAé"}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
	var back RawValues
	if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back, raw) {
		t.Errorf("round trip = %v, %v; want %v", back, err, raw)
	}
	if b, _ := json.Marshal(RawValues{}); string(b) != "{}" {
		t.Errorf("empty = %s", b)
	}
	for _, bad := range []string{`[]`, `{"a":1}`, `{"a":"b"`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	if v, ok := raw.Get("Amount"); !ok || v != `$-9.11 "x"` {
		t.Errorf("Get(Amount) = %q, %t", v, ok)
	}
	if _, ok := raw.Get("amount"); ok {
		t.Errorf("Get is case-sensitive")
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	base := Row{
		Tag: "00812345678", Agency: "MTAB&T", ExitPlaza: "VERRAZANO",
		TxnAt: time.Date(2026, 1, 2, 7, 42, 13, 0, ny), AmountCents: 694,
	}
	// Pinned: the value is stored in the database, so it must never change.
	const golden = "5c8f0d8556659b743858794d5a40b56f923f48a44e817e6aaa645bcc901e243e"
	if got := base.Fingerprint(); got != golden {
		t.Errorf("Fingerprint = %s; want the pinned %s", got, golden)
	}

	same := map[string]func(r *Row){
		"same instant in UTC":     func(r *Row) { r.TxnAt = r.TxnAt.UTC() },
		"agency case and spacing": func(r *Row) { r.Agency = " mtab&t " },
		"plaza case and spacing":  func(r *Row) { r.ExitPlaza = "verrazano  " },
		"raw values and line":     func(r *Row) { r.Line, r.Raw = 99, RawValues{{"x", "y"}} },
		"lane txn id and kind":    func(r *Row) { r.LaneTxnID, r.Kind = "123", KindCredit },
		"tag or plate as written": func(r *Row) { r.TagOrPlate = "008 12345678" },
		"sub-second part dropped": func(r *Row) { r.TxnAt = r.TxnAt.Add(400 * time.Millisecond) },
	}
	for name, change := range same {
		r := base
		change(&r)
		if r.Fingerprint() != golden {
			t.Errorf("%s changed the fingerprint", name)
		}
	}
	different := map[string]func(r *Row){
		"time":        func(r *Row) { r.TxnAt = r.TxnAt.Add(time.Second) },
		"tag":         func(r *Row) { r.Tag = "00812345679" },
		"plate":       func(r *Row) { r.Tag, r.PlateState, r.Plate = "", "NY", "00812345678" },
		"agency":      func(r *Row) { r.Agency = "MTA" },
		"exit plaza":  func(r *Row) { r.ExitPlaza = "THROGS NECK" },
		"entry plaza": func(r *Row) { r.EntryPlaza = "VERRAZANO" },
		"plaza id":    func(r *Row) { r.Plaza = "VZ01" },
		"amount":      func(r *Row) { r.AmountCents = -694 },
	}
	seen := map[string]string{golden: "base"}
	for name, change := range different {
		r := base
		change(&r)
		fp := r.Fingerprint()
		if other, dup := seen[fp]; dup {
			t.Errorf("changing %s gives the fingerprint of %s", name, other)
		}
		seen[fp] = name
	}
}

func TestFingerprintIgnoresColumnOrder(t *testing.T) {
	t.Parallel()
	a := readCSV(t, headerA, ",NY T123456C,PANYNJ,,GWB UPPER,1,1/3/2026,11:18:02 AM,$-16.06")
	b := readCSV(t,
		"Amount,Exit Time,Date,Class,Exit Plaza,Entry Plaza,Agency,Tag/Plate #,Lane Txn ID",
		"($16.06),11:18:02,01/03/26,1,GWB UPPER,,PANYNJ,NY-T123456C,",
	)
	if len(a.rows) != 1 || len(b.rows) != 1 {
		t.Fatalf("rows: %d and %d; errors %v %v", len(a.rows), len(b.rows), a.errs, b.errs)
	}
	if fa, fb := a.rows[0].Fingerprint(), b.rows[0].Fingerprint(); fa != fb {
		t.Errorf("fingerprints differ: %s vs %s", fa, fb)
	}
}

func TestRowHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		row                    Row
		wantPlaza, wantVehicle string
	}{
		{Row{ExitPlaza: "WOODBURY", EntryPlaza: "NEW ROCHELLE", Plaza: "WB15", Tag: "008"}, "WOODBURY", "008"},
		{Row{EntryPlaza: "HOLLAND TUNNEL", Plaza: "HT04", PlateState: "NY", Plate: "T123456C"}, "HT04", "NY T123456C"},
		{Row{EntryPlaza: "HOLLAND TUNNEL", Plate: "T123456C"}, "HOLLAND TUNNEL", "T123456C"},
		{Row{}, "", ""},
	}
	for _, tt := range tests {
		if p, v := tt.row.PlazaName(), tt.row.PlateOrTag(); p != tt.wantPlaza || v != tt.wantVehicle {
			t.Errorf("PlazaName, PlateOrTag = %q, %q; want %q, %q", p, v, tt.wantPlaza, tt.wantVehicle)
		}
	}
}

// syntheticCSV is a format A file of n rows generated on demand, so that a
// large file needs no memory of its own.
type syntheticCSV struct {
	n    int
	size int64
}

const syntheticRow = "2960411718,00812345678,MTAB&T,,VERRAZANO,1,01/02/2026,07:42:13 AM,$-6.94\n"

func newSyntheticCSV(n int) *syntheticCSV {
	return &syntheticCSV{n: n, size: int64(len(headerA)+1) + int64(n)*int64(len(syntheticRow))}
}

func (s *syntheticCSV) ReadAt(p []byte, off int64) (int, error) {
	head := int64(len(headerA) + 1)
	n := 0
	for n < len(p) && off < s.size {
		var src string
		var pos int64
		if off < head {
			src, pos = headerA+"\n", off
		} else {
			src, pos = syntheticRow, (off-head)%int64(len(syntheticRow))
		}
		c := copy(p[n:], src[pos:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestMemoryStaysBounded reads 200,000 rows and checks that the heap never
// holds more than a fraction of them. It does not call t.Parallel: it
// measures the whole process's heap, so it must run alone.
func TestMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200,000 rows")
	}
	const rows = 200_000
	src := newSyntheticCSV(rows)
	r, err := Open(src, src.size, "big.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n%10_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if n != rows {
		t.Fatalf("read %d rows; want %d", n, rows)
	}
	t.Logf("heap peak %d KiB over %d rows", peak>>10, n)
	// Keeping every row would need well over 100 MiB.
	const limit = 48 << 20
	if peak > limit {
		t.Errorf("heap peaked at %d MiB while reading; want under %d MiB", peak>>20, limit>>20)
	}
}

func BenchmarkReadCSV(b *testing.B) {
	src := newSyntheticCSV(10_000)
	b.SetBytes(src.size)
	for b.Loop() {
		r, err := Open(src, src.size, "big.csv", Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
		r.Close()
	}
}
