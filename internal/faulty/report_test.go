package faulty

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// sheetOpts describes a report workbook fixture.
type sheetOpts struct {
	lead   [][]any // rows before the header (title, note); default: a title and a note
	header []string
	rows   [][]any
}

// fullHeader is the contract header with the personal columns interleaved as ChargeCloud does.
var fullHeader = []string{
	"Party ID", "Partner Name", "Authorization Reference", "Charger Station ID", "Station Name",
	"City", "State", "Connector ID", "Vehicle ID", "Vehicle Make", "Vehicle Model", "VIN Number",
	"Max Charging Capacity", "Energy Consumed", "Payment Status", "Faulty Reasons", "CDR ID",
	"OCPI Session ID", "User Name", "User Phone", "Scheduled Time", "Start Time", "End Time",
	"Start SoC", "Stop SoC",
}

// personal values used in fixtures; none may ever come out of the reader.
var personalValues = []string{"VEH-778812", "Tesla", "Model Y", "5YJYGDEE1MF000001", "11 kW", "Erika Mustermann", "+49 170 5550199"}

// fixtureRow returns a data row for fullHeader with the given reference, start time cell and kWh.
func fixtureRow(ref string, start any, kwh any) []any {
	return []any{
		"DE*VLT", "Voltwerk Laden GmbH", ref, "DE*VLT*E1001", "Berlin Mitte Hub",
		"Berlin", "BE", "2", personalValues[0], personalValues[1], personalValues[2], personalValues[3],
		personalValues[4], kwh, "action_required", "CDR missing", "CDR-1",
		"SES-1", personalValues[5], personalValues[6], "2026-10-03T07:30:00Z", start, "2026-10-03 10:45:30",
		"35", "80",
	}
}

func buildXLSX(t *testing.T, o sheetOpts) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if o.lead == nil {
		o.lead = [][]any{{"Faulty bookings report"}, {"Generated 2026-11-01 00:00:00 UTC"}}
	}
	if o.header == nil {
		o.header = fullHeader
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 22})
	if err != nil {
		t.Fatal(err)
	}
	r := 1
	put := func(vals []any) {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := f.SetSheetRow("Sheet1", cell, &vals); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if _, ok := v.(time.Time); ok {
				c, _ := excelize.CoordinatesToCellName(i+1, r)
				_ = f.SetCellStyle("Sheet1", c, c, dateStyle)
			}
		}
		r++
	}
	for _, l := range o.lead {
		put(l)
	}
	h := make([]any, len(o.header))
	for i, s := range o.header {
		h[i] = s
	}
	put(h)
	for _, row := range o.rows {
		put(row)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t *testing.T, b []byte, opts ReportOptions) ([]ReportRow, []error, error) {
	t.Helper()
	rr, err := ReadReport(bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		return nil, nil, err
	}
	defer rr.Close()
	var rows []ReportRow
	var rowErrs []error
	for {
		row, err := rr.Next()
		if err == io.EOF {
			return rows, rowErrs, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			rowErrs = append(rowErrs, err)
			continue
		}
		if err != nil {
			return rows, rowErrs, err
		}
		rows = append(rows, row)
	}
}

const ref1 = "6650c0ffee0000000000a001"

func TestReadReport(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	// Excel date cells hold the wall time; excelize writes a UTC time.Time as that wall time.
	excelStart := time.Date(2026, 10, 3, 9, 15, 0, 0, time.UTC)
	b := buildXLSX(t, sheetOpts{rows: [][]any{
		fixtureRow(ref1, excelStart, 12.345),
		{},
		fixtureRow("not-a-ref", "2026-10-04 08:00:00", "7"),
	}})
	rows, rowErrs, err := readAll(t, b, ReportOptions{Location: berlin})
	if err != nil {
		t.Fatal(err)
	}
	if len(rowErrs) != 0 {
		t.Fatalf("row errors: %v", rowErrs)
	}
	want := []ReportRow{{
		Row: 4, PartyID: "DE*VLT", PartnerName: "Voltwerk Laden GmbH", AuthorizationReference: ref1,
		ChargerStationID: "DE*VLT*E1001", StationName: "Berlin Mitte Hub", City: "Berlin", State: "BE",
		ConnectorID: "2", EnergyConsumed: 12345, PaymentStatus: "action_required", FaultyReasons: "CDR missing",
		CDRID: "CDR-1", OCPISessionID: "SES-1",
		ScheduledTime: time.Date(2026, 10, 3, 7, 30, 0, 0, time.UTC),
		StartTime:     time.Date(2026, 10, 3, 7, 15, 0, 0, time.UTC),  // 09:15 CEST
		EndTime:       time.Date(2026, 10, 3, 8, 45, 30, 0, time.UTC), // 10:45:30 CEST
		StartSoC:      "35", StopSoC: "80",
	}, {
		Row: 6, PartyID: "DE*VLT", PartnerName: "Voltwerk Laden GmbH", AuthorizationReference: "not-a-ref",
		ChargerStationID: "DE*VLT*E1001", StationName: "Berlin Mitte Hub", City: "Berlin", State: "BE",
		ConnectorID: "2", EnergyConsumed: 7000, PaymentStatus: "action_required", FaultyReasons: "CDR missing",
		CDRID: "CDR-1", OCPISessionID: "SES-1",
		ScheduledTime: time.Date(2026, 10, 3, 7, 30, 0, 0, time.UTC),
		StartTime:     time.Date(2026, 10, 4, 6, 0, 0, 0, time.UTC),
		EndTime:       time.Date(2026, 10, 3, 8, 45, 30, 0, time.UTC),
		StartSoC:      "35", StopSoC: "80",
	}}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows =\n%+v\nwant\n%+v", rows, want)
	}
	dump := fmt.Sprintf("%+v %#v", rows, rows)
	for _, pv := range personalValues {
		if strings.Contains(dump, pv) {
			t.Errorf("personal value %q leaked into the rows", pv)
		}
	}
}

func TestReadReportHeaderVariants(t *testing.T) {
	t.Parallel()
	moved := [][]any{{"Title"}, {"Note"}, {}, {"Another note"}, {"Party ID only"}}
	mixed := make([]string, len(fullHeader))
	for i, h := range fullHeader {
		mixed[i] = "  " + strings.ToUpper(strings.ReplaceAll(h, " ", "  ")) + " "
	}
	extra := append([]string{"Tariff ID"}, fullHeader...)
	extra = append(extra, "Country Code")
	tests := []struct {
		name        string
		opts        sheetOpts
		wantHeader  int
		wantIgnored []string
		wantRow     int
	}{
		{"contract layout", sheetOpts{rows: [][]any{fixtureRow(ref1, "2026-10-03 09:00:00", 1.5)}}, 3, nil, 4},
		{"header moved to row 6", sheetOpts{lead: moved, rows: [][]any{fixtureRow(ref1, "2026-10-03 09:00:00", 1.5)}}, 6, nil, 7},
		{"header on row 1", sheetOpts{lead: [][]any{}, rows: [][]any{fixtureRow(ref1, "2026-10-03 09:00:00", 1.5)}}, 1, nil, 2},
		{"case and spaces", sheetOpts{header: mixed, rows: [][]any{fixtureRow(ref1, "2026-10-03 09:00:00", 1.5)}}, 3, nil, 4},
		{"extra columns ignored", sheetOpts{header: extra, rows: [][]any{append(append([]any{"T-1"}, fixtureRow(ref1, "2026-10-03 09:00:00", 1.5)...), "DE")}}, 3, []string{"Tariff ID", "Country Code"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := buildXLSX(t, tt.opts)
			rr, err := ReadReport(bytes.NewReader(b), int64(len(b)), ReportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer rr.Close()
			if rr.HeaderRow() != tt.wantHeader {
				t.Errorf("HeaderRow() = %d, want %d", rr.HeaderRow(), tt.wantHeader)
			}
			if !reflect.DeepEqual(rr.Ignored(), tt.wantIgnored) {
				t.Errorf("Ignored() = %q, want %q", rr.Ignored(), tt.wantIgnored)
			}
			row, err := rr.Next()
			if err != nil {
				t.Fatal(err)
			}
			if row.Row != tt.wantRow || row.AuthorizationReference != ref1 || row.EnergyConsumed != 1500 || row.StationName != "Berlin Mitte Hub" {
				t.Errorf("row = %+v", row)
			}
			if _, err := rr.Next(); err != io.EOF {
				t.Errorf("second Next() = %v, want io.EOF", err)
			}
		})
	}
}

func TestReadReportErrors(t *testing.T) {
	t.Parallel()
	good := buildXLSX(t, sheetOpts{rows: [][]any{fixtureRow(ref1, "2026-10-03 09:00:00", 1.5)}})
	var missingHeader []string
	for _, h := range fullHeader {
		if h != "Station Name" && h != "CDR ID" {
			missingHeader = append(missingHeader, h)
		}
	}
	substring := append([]string(nil), fullHeader...)
	substring[4] = "Station Name (EN)" // a substring match must not count
	dup := append(append([]string(nil), fullHeader...), "city")
	tests := []struct {
		name    string
		input   []byte
		wantIs  error
		wantMsg string
	}{
		{"empty", nil, ErrNotXLSX, "empty report"},
		{"not a zip", []byte("<html>Service Unavailable</html>"), ErrNotXLSX, "not a readable .xlsx"},
		{"truncated", good[:len(good)/2], ErrNotXLSX, "not a readable .xlsx"},
		{"zip without workbook", zipOf(t, "hello.txt", "hi"), ErrNotXLSX, "not a readable .xlsx"},
		{"no header", buildXLSX(t, sheetOpts{header: []string{"Something", "Else"}}), nil, `no header row holding "Party ID" and "Authorization Reference"`},
		{"missing columns", buildXLSX(t, sheetOpts{header: missingHeader}), nil, "missing columns: Station Name, CDR ID"},
		{"substring is not a match", buildXLSX(t, sheetOpts{header: substring}), nil, "missing columns: Station Name"},
		{"duplicate column", buildXLSX(t, sheetOpts{header: dup}), nil, "duplicate columns: City"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rr, err := ReadReport(bytes.NewReader(tt.input), int64(len(tt.input)), ReportOptions{})
			if err == nil {
				rr.Close()
				t.Fatal("ReadReport() succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestReadReportUnzipCap(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, sheetOpts{rows: [][]any{fixtureRow(ref1, "2026-10-03 09:00:00", 1.5)}})
	_, err := ReadReport(bytes.NewReader(b), int64(len(b)), ReportOptions{MaxUnzipSize: 1 << 10})
	if err == nil || !strings.Contains(err.Error(), "exceeds") && !strings.Contains(err.Error(), "unzip size") {
		t.Fatalf("ReadReport() with a 1 KiB cap = %v, want a size error", err)
	}
}

func TestReadReportBadCells(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, sheetOpts{rows: [][]any{
		fixtureRow(ref1, "yesterday", 1.5),
		fixtureRow(ref1, "2026-10-03 09:00:00", "1,5"),
		fixtureRow(ref1, "2026-10-03 09:00:00", 2.25),
	}})
	rows, rowErrs, err := readAll(t, b, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Row != 6 || rows[0].EnergyConsumed != 2250 {
		t.Fatalf("rows = %+v, want only row 6 with 2250 Wh", rows)
	}
	if len(rowErrs) != 2 {
		t.Fatalf("row errors = %v, want 2", rowErrs)
	}
	for i, want := range []string{`row 4, column "Start Time": invalid time "yesterday"`, `row 5, column "Energy Consumed": invalid kWh amount "1,5"`} {
		if !strings.Contains(rowErrs[i].Error(), want) {
			t.Errorf("row error %d = %q, want it to contain %q", i, rowErrs[i], want)
		}
		for _, pv := range personalValues {
			if strings.Contains(rowErrs[i].Error(), pv) {
				t.Errorf("personal value %q leaked into %q", pv, rowErrs[i])
			}
		}
	}
}

func TestParseKWh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Energy
		wantErr bool
	}{
		{"12.345", 12345, false},
		{"12", 12000, false},
		{" 0.0005 ", 1, false}, // half rounds away from zero
		{"0.0004", 0, false},
		{"-1.5", -1500, false},
		{"1.2345E1", 12345, false},
		{"12.345000000000001", 12345, false},
		{"", 0, false},
		{"1,5", 0, true},
		{"12 kWh", 0, true},
		{"abc", 0, true},
		{"1e400", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKWh(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseKWh(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if got := Energy(12345).KWh(); got != "12.345" {
		t.Errorf("KWh() = %q, want 12.345", got)
	}
	if got := Energy(-5).String(); got != "-0.005 kWh" {
		t.Errorf("String() = %q, want -0.005 kWh", got)
	}
}

func TestParseReportTime(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2026-03-08 01:30:00", time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), false},
		{"2026-03-08 03:30:00", time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), false},
		{"2026-03-08T03:30:00+01:00", time.Date(2026, 3, 8, 2, 30, 0, 0, time.UTC), false},
		{"46089.5", time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC), false}, // 12:00 EDT
		{"46089.999999999", time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC), false},
		{"", time.Time{}, false},
		{"03/08/2026", time.Time{}, true},
		{"-5", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseReportTime(tt.in, ny)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Fatalf("ParseReportTime(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestPeriod(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	p, err := ParsePeriod("2026-03")
	if err != nil {
		t.Fatal(err)
	}
	from, to := p.Range(ny)
	if want := time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC); !from.Equal(want) || from.Location() != time.UTC {
		t.Errorf("from = %v, want %v in UTC", from, want)
	}
	if want := time.Date(2026, 4, 1, 4, 0, 0, 0, time.UTC); !to.Equal(want) {
		t.Errorf("to = %v, want %v", to, want)
	}
	if got := (Period{2026, time.December}).Next(); got != (Period{2027, time.January}) {
		t.Errorf("Next() = %v", got)
	}
	if got := (Period{2026, time.January}).Prev(); got.String() != "2025-12" {
		t.Errorf("Prev() = %v", got)
	}
	if got := PeriodOf(time.Date(2026, 4, 1, 3, 0, 0, 0, time.UTC), ny); got != p {
		t.Errorf("PeriodOf() = %v, want %v", got, p)
	}
	for _, bad := range []string{"", "2026-3", "2026-13", "2026-00", "26-03", "2026/03", "２０２６-03", "2026-03 "} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) succeeded", bad)
		}
	}
	var q Period
	if err := q.UnmarshalText([]byte("2026-10")); err != nil || q.String() != "2026-10" {
		t.Errorf("UnmarshalText = %v, %v", q, err)
	}
}
