package masterfile_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/masterfile"
)

func sample() masterfile.Batch {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	t0 := time.Date(2026, 10, 3, 8, 0, 0, 0, time.UTC)
	return masterfile.Batch{
		ID: "8d0f6c1e-0000-4000-8000-000000000001", PartyID: "DE*VLT", PartnerName: "=Voltwerk", Period: "2026-10",
		Version: 3, GeneratedAt: time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC), Location: berlin,
		Items: []masterfile.Item{
			{AuthRef: "aaaaaaaaaaaaaaaaaaaaaaaa", CDRID: "CDR-1", OCPISessionID: "@sess", StationName: "Berlin Messe 1", StationID: "DE*VLT*E1001",
				City: "Berlin", Connector: "2", Start: t0, End: t0.Add(time.Hour), EnergyWh: 12345, FaultReasons: []string{"CDR_MISSING", "+1"},
				State: "open", Reopened: 1, CreatedAt: t0},
			{AuthRef: "bbbbbbbbbbbbbbbbbbbbbbbb", CDRID: "-5", StationName: "\tTab", City: "\rCR", Connector: "1",
				Start: t0, End: t0.Add(2 * time.Hour), EnergyWh: 1000, FaultReasons: []string{"TARIFF_MISMATCH"},
				State: "resolved", Resolution: "disappeared", CreatedAt: t0, ResolvedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)},
		},
		Emails: []masterfile.Email{
			{Seq: 2, Level: "reminder", MessageID: "<rd.x.2@recondesk.local>", State: "sent", SentAt: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC), To: []string{"a@example.com"}},
			{Seq: 1, Level: "notification", MessageID: "<rd.x.1@recondesk.local>", State: "sent", SentAt: time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC), To: []string{"a@example.com"}, CC: []string{"b@example.com"}},
			{Seq: 3, Level: "final_reminder", MessageID: "<rd.x.3@recondesk.local>", State: "pending", To: []string{"a@example.com"}},
		},
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	data, err := masterfile.Build(sample())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"Bookings", "Tracking", "Summary"}) {
		t.Fatalf("sheets = %v", got)
	}
	if i := f.GetActiveSheetIndex(); i != 0 {
		t.Errorf("active sheet = %d; want Bookings", i)
	}
	rows, err := f.GetRows("Bookings")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], masterfile.BookingsHeader) {
		t.Errorf("Bookings header = %v", rows[0])
	}
	if len(rows) != 3 {
		t.Fatalf("Bookings has %d rows, want header + 2", len(rows))
	}
	want1 := []string{"1", "aaaaaaaaaaaaaaaaaaaaaaaa", "CDR-1", "'@sess", "Berlin Messe 1 (DE*VLT*E1001)", "Berlin", "2",
		"2026-10-03 10:00:00", "2026-10-03 11:00:00", "12.345", "CDR_MISSING, +1", "Open (reopened 1×)",
		"2026-11-16 09:00:00", "2026-11-21 09:00:00"}
	if !reflect.DeepEqual(rows[1], want1) {
		t.Errorf("row 1 =\n%q\nwant\n%q", rows[1], want1)
	}
	// Resolved on the 22nd: the reminder of the 21st still concerned it; escaping of -, tab, CR.
	want2 := []string{"2", "bbbbbbbbbbbbbbbbbbbbbbbb", "'-5", "", "'\tTab", "'\rCR", "1",
		"2026-10-03 10:00:00", "2026-10-03 12:00:00", "1", "TARIFF_MISMATCH", "Resolved: no longer in the report",
		"2026-11-16 09:00:00", "2026-11-21 09:00:00", "2026-11-22 11:00:00"}
	if !reflect.DeepEqual(rows[2], want2) {
		t.Errorf("row 2 =\n%q\nwant\n%q", rows[2], want2)
	}
	tr, _ := f.GetRows("Tracking")
	if len(tr) != 4 || tr[1][0] != "1" || tr[1][1] != "notification" || tr[1][2] != "<rd.x.1@recondesk.local>" || tr[1][6] != "b@example.com" {
		t.Errorf("Tracking = %q", tr)
	}
	if tr[3][3] != "pending" || tr[3][4] != "" {
		t.Errorf("unsent email row = %q", tr[3])
	}
	sum, _ := f.GetRows("Summary")
	got := map[string]string{}
	for _, r := range sum {
		if len(r) == 2 {
			got[r[0]] = r[1]
		}
	}
	for k, v := range map[string]string{"Partner": "'=Voltwerk", "Version": "3", "Open": "1", "Resolved": "1",
		"Resolved: no longer in the report": "1", "Time zone": "Europe/Berlin", "Emails sent": "2"} {
		if got[k] != v {
			t.Errorf("Summary %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "", "=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"a=b": "a=b", "'=x": "'=x", " =x": " =x",
	} {
		if got := masterfile.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExampleBuild() {
	data, err := masterfile.Build(masterfile.Batch{ID: "b1", PartyID: "DE*VLT", PartnerName: "Voltwerk", Period: "2026-10", Version: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, _ := excelize.OpenReader(bytes.NewReader(data))
	fmt.Println(f.GetSheetList(), len(masterfile.SHA256(data)))
	// Output: [Bookings Tracking Summary] 64
}

func TestBookingsResponseDropDown(t *testing.T) {
	t.Parallel()
	data, err := masterfile.Build(masterfile.Batch{ID: "b", PartyID: "DE*X", PartnerName: "X", Period: "2026-10", Version: 1,
		Items: []masterfile.Item{{AuthRef: "a1"}, {AuthRef: "a2"}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dvs, err := f.GetDataValidations(masterfile.SheetBookings)
	if err != nil {
		t.Fatal(err)
	}
	if len(dvs) != 1 || dvs[0].Sqref != "P2:P3" || dvs[0].Type != "list" || dvs[0].Formula1 != `"Paid,Credited,Disputed,Will pay by date,Other"` {
		t.Fatalf("data validations = %+v", dvs)
	}
	rows, _ := f.GetRows(masterfile.SheetBookings)
	if got := rows[0][15:]; len(got) != 2 || got[0] != "Partner response" || got[1] != "Partner note" {
		t.Errorf("last header cells = %q", got)
	}
}

// checkDateCell fails unless cell holds an Excel date number with a date number format that
// reads want.
func checkDateCell(t *testing.T, f *excelize.File, sheet, cell, want string) {
	t.Helper()
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.ParseFloat(raw, 64); err != nil {
		t.Errorf("%s!%s = %q; want a date number", sheet, cell, raw)
	}
	id, _ := f.GetCellStyle(sheet, cell)
	st, err := f.GetStyle(id)
	if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != masterfile.DateNumFmt {
		t.Errorf("%s!%s style = %+v (%v); want number format %q", sheet, cell, st, err, masterfile.DateNumFmt)
	}
	if got, _ := f.GetCellValue(sheet, cell); got != want {
		t.Errorf("%s!%s reads %q; want %q", sheet, cell, got, want)
	}
}

// checkTableLayout fails unless sheet has its header row frozen, an autofilter over ref and a
// width set on every column of ref.
func checkTableLayout(t *testing.T, f *excelize.File, data []byte, sheet, ref string, cols int) {
	t.Helper()
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("%s panes = %+v (%v); want the header row frozen", sheet, panes, err)
	}
	found := false
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" && dn.Scope == sheet && strings.ReplaceAll(dn.RefersTo, "$", "") == "'"+sheet+"'!"+ref {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: no filter database over %s in %+v", sheet, ref, f.GetDefinedName())
	}
	// excelize writes the range absolute ($A$1:$Q$3).
	if xml := strings.ReplaceAll(sheetXML(t, data, f, sheet), "$", ""); !strings.Contains(xml, `<autoFilter ref="`+ref+`"`) {
		t.Errorf("%s: sheet XML has no autoFilter over %s", sheet, ref)
	}
	for c := 1; c <= cols; c++ {
		name, _ := excelize.ColumnNumberToName(c)
		if w, err := f.GetColWidth(sheet, name); err != nil || w == 9.140625 || w < 6 {
			t.Errorf("%s column %s width = %v (%v); want a set width", sheet, name, w, err)
		}
	}
}

// sheetXML returns the raw XML of sheet in the workbook data.
func sheetXML(t *testing.T, data []byte, f *excelize.File, sheet string) string {
	t.Helper()
	idx, _ := f.GetSheetIndex(sheet)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("xl/worksheets/sheet%d.xml", idx+1)
	for _, zf := range zr.File {
		if zf.Name == name {
			rc, _ := zf.Open()
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return string(b)
		}
	}
	t.Fatalf("no %s in the workbook", name)
	return ""
}

func TestBuildLayout(t *testing.T) {
	t.Parallel()
	data, err := masterfile.Build(sample())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Dates are real date cells showing the wall clock in the batch's zone (Berlin, CEST/CET).
	for cell, want := range map[string]string{"H2": "2026-10-03 10:00:00", "I2": "2026-10-03 11:00:00",
		"M2": "2026-11-16 09:00:00", "N2": "2026-11-21 09:00:00", "O3": "2026-11-22 11:00:00"} {
		checkDateCell(t, f, masterfile.SheetBookings, cell, want)
	}
	checkDateCell(t, f, masterfile.SheetTracking, "E2", "2026-11-16 09:00:00")
	checkDateCell(t, f, masterfile.SheetSummary, "B7", "2026-11-16 09:00:00")
	if v, _ := f.GetCellValue(masterfile.SheetBookings, "O2"); v != "" {
		t.Errorf("open booking's Resolved at = %q; want empty", v)
	}
	checkTableLayout(t, f, data, masterfile.SheetBookings, "A1:Q3", len(masterfile.BookingsHeader))
	checkTableLayout(t, f, data, masterfile.SheetTracking, "A1:G4", len(masterfile.TrackingHeader))
	// The drop-down survives next to the autofilter.
	if dvs, _ := f.GetDataValidations(masterfile.SheetBookings); len(dvs) != 1 || dvs[0].Sqref != "P2:P3" {
		t.Errorf("data validations = %+v", dvs)
	}
}

// TestTrackingHistoryStreamed writes the bookings and their history from iterators: the
// Bookings rows and the Summary come from the stream, and the Tracking sheet lists the thread
// and then each booking's history with date cells in the file's zone.
func TestTrackingHistoryStreamed(t *testing.T) {
	t.Parallel()
	b := sample()
	items := b.Items
	b.Items = nil
	b.EachItem = func(yield func(masterfile.Item) error) error {
		for _, it := range items {
			if err := yield(it); err != nil {
				return err
			}
		}
		return nil
	}
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	history := []masterfile.Event{
		{AuthRef: items[0].AuthRef, At: at(8, 6), Event: masterfile.EventConfirmed, By: "system:validation"},
		{AuthRef: items[0].AuthRef, At: at(12, 6), Event: masterfile.EventCreated, To: "open", By: "system:faulty.phase"},
		{AuthRef: items[0].AuthRef, At: at(17, 10), Event: masterfile.EventDisputed, By: "partner", Note: "=not ours"},
		{AuthRef: items[1].AuthRef, At: at(12, 6), Event: masterfile.EventCreated, To: "open", By: "system:faulty.phase"},
		{AuthRef: items[1].AuthRef, At: at(22, 10), Event: "disappeared", From: "open", To: "resolved", By: "system:faulty.phase"},
	}
	b.EachEvent = func(yield func(masterfile.Event) error) error {
		for _, e := range history {
			if err := yield(e); err != nil {
				return err
			}
		}
		return nil
	}
	data, err := masterfile.Build(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, _ := f.GetRows(masterfile.SheetBookings); len(rows) != 3 || rows[1][1] != items[0].AuthRef || rows[2][1] != items[1].AuthRef {
		t.Errorf("Bookings = %q; want the two streamed items", rows)
	}
	tr, _ := f.GetRows(masterfile.SheetTracking)
	// Header, three emails, a blank row, the title, the history header and five events.
	if len(tr) != 12 {
		t.Fatalf("Tracking has %d rows; want 12: %q", len(tr), tr)
	}
	if len(tr[4]) != 0 || tr[5][0] != masterfile.HistoryTitle || !reflect.DeepEqual(tr[6], masterfile.HistoryHeader) {
		t.Errorf("history heading = %q / %q / %q", tr[4], tr[5], tr[6])
	}
	want := [][]string{
		{items[0].AuthRef, "2026-11-08 07:00:00", "Confirmed faulty", "", "", "system:validation"},
		{items[0].AuthRef, "2026-11-12 07:00:00", "Created", "", "open", "system:faulty.phase"},
		{items[0].AuthRef, "2026-11-17 11:00:00", "Disputed by the partner", "", "", "partner", "'=not ours"},
		{items[1].AuthRef, "2026-11-12 07:00:00", "Created", "", "open", "system:faulty.phase"},
		{items[1].AuthRef, "2026-11-22 11:00:00", "Resolved: no longer in the report", "open", "resolved", "system:faulty.phase"},
	}
	for i, w := range want {
		if !reflect.DeepEqual(tr[7+i], w) {
			t.Errorf("history row %d = %q; want %q", i+1, tr[7+i], w)
		}
	}
	checkDateCell(t, f, masterfile.SheetTracking, "B8", "2026-11-08 07:00:00")
	sum, _ := f.GetRows(masterfile.SheetSummary)
	got := map[string]string{}
	for _, r := range sum {
		if len(r) == 2 {
			got[r[0]] = r[1]
		}
	}
	if got["Bookings"] != "2" || got["Open"] != "1" || got["Resolved"] != "1" {
		t.Errorf("Summary from the stream = %v", got)
	}
}
