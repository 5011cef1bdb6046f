package faulty

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/xuri/excelize/v2"
)

// ReportRow is one row of the ChargeCloud faulty-booking report, personal data removed.
type ReportRow struct {
	// Row is the 1-based spreadsheet row number.
	Row                    int
	PartyID                string
	PartnerName            string
	AuthorizationReference string
	ChargerStationID       string
	StationName            string
	City                   string
	State                  string
	ConnectorID            string
	// EnergyConsumed is the report's kWh figure in exact watt-hours.
	EnergyConsumed Energy
	PaymentStatus  string
	// FaultyReasons is the report's text; the stored reasons come from MongoDB.
	FaultyReasons string
	CDRID         string
	OCPISessionID string
	// ScheduledTime, StartTime and EndTime are in UTC; zero when the cell is empty.
	ScheduledTime time.Time
	StartTime     time.Time
	EndTime       time.Time
	// StartSoC and StopSoC are the state-of-charge cells as reported (e.g. "35" or "35%").
	StartSoC string
	StopSoC  string
}

// Report column names, as ChargeCloud writes them in the header row.
const (
	ColPartyID                = "Party ID"
	ColPartnerName            = "Partner Name"
	ColAuthorizationReference = "Authorization Reference"
	ColChargerStationID       = "Charger Station ID"
	ColStationName            = "Station Name"
	ColCity                   = "City"
	ColState                  = "State"
	ColConnectorID            = "Connector ID"
	ColEnergyConsumed         = "Energy Consumed"
	ColPaymentStatus          = "Payment Status"
	ColFaultyReasons          = "Faulty Reasons"
	ColCDRID                  = "CDR ID"
	ColOCPISessionID          = "OCPI Session ID"
	ColScheduledTime          = "Scheduled Time"
	ColStartTime              = "Start Time"
	ColEndTime                = "End Time"
	ColStartSoC               = "Start SoC"
	ColStopSoC                = "Stop SoC"
)

// ReportColumns lists the report's non-personal columns in ChargeCloud's order; all are required.
var ReportColumns = []string{
	ColPartyID, ColPartnerName, ColAuthorizationReference, ColChargerStationID, ColStationName,
	ColCity, ColState, ColConnectorID, ColEnergyConsumed, ColPaymentStatus, ColFaultyReasons,
	ColCDRID, ColOCPISessionID, ColScheduledTime, ColStartTime, ColEndTime, ColStartSoC, ColStopSoC,
}

// PersonalColumns lists the report's personal-data columns; they are dropped on read.
var PersonalColumns = []string{
	"Vehicle ID", "Vehicle Make", "Vehicle Model", "VIN Number", "Max Charging Capacity",
	"User Name", "User Phone",
}

// headerSearchRows is how many leading rows are searched for the header.
const headerSearchRows = 10

// Default decompression caps for ReadReport.
const (
	DefaultMaxUnzipSize = 1 << 30  // total uncompressed bytes
	DefaultMaxXMLSize   = 16 << 20 // larger sheet parts are spilled to a temp file, not RAM
)

// ReportOptions configures ReadReport.
type ReportOptions struct {
	// Location interprets Excel dates and text times without an offset (EMSP_TZ); nil means UTC.
	Location *time.Location
	// MaxUnzipSize caps the workbook's total uncompressed size; 0 means DefaultMaxUnzipSize.
	MaxUnzipSize int64
	// MaxXMLSize is the largest worksheet part held in memory; 0 means DefaultMaxXMLSize.
	MaxXMLSize int64
	// TempDir is where large worksheet parts are unzipped; "" means the system default.
	TempDir string
}

// ErrNotXLSX is returned (wrapped) when the input is not a readable .xlsx workbook.
var ErrNotXLSX = errors.New("not a readable .xlsx workbook")

// HeaderError says the header row was not found or lacks required columns.
type HeaderError struct {
	// Row is the header row number, 0 when no header row was found.
	Row int
	// Missing lists the required columns that are absent.
	Missing []string
	// Duplicate lists columns that appear more than once.
	Duplicate []string
}

// Error describes the header problem, naming the columns.
func (e *HeaderError) Error() string {
	if e.Row == 0 {
		return fmt.Sprintf("faulty: no header row holding %q and %q in the first %d rows",
			ColPartyID, ColAuthorizationReference, headerSearchRows)
	}
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing columns: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, "duplicate columns: "+strings.Join(e.Duplicate, ", "))
	}
	return fmt.Sprintf("faulty: report header on row %d: %s", e.Row, strings.Join(parts, "; "))
}

// RowError is a bad value in one non-personal cell; the row is skipped and reading may go on.
type RowError struct {
	Row    int
	Column string
	Value  string
	Err    error
}

// Error describes the cell and the problem.
func (e *RowError) Error() string {
	return fmt.Sprintf("faulty: row %d, column %q: %v", e.Row, e.Column, e.Err)
}

// Unwrap returns the underlying parse error.
func (e *RowError) Unwrap() error { return e.Err }

// ReportReader streams the rows of a report workbook.
type ReportReader struct {
	f         *excelize.File
	rows      *excelize.Rows
	loc       *time.Location
	row       int
	headerRow int
	index     map[string]int // column name (canonical) -> cell index
	ignored   []string
	done      bool
}

// ReadReport opens a report workbook (first sheet), finds the header row and prepares to
// stream its rows. Call Close when done.
func ReadReport(r io.ReaderAt, size int64, opts ReportOptions) (*ReportReader, error) {
	if r == nil || size <= 0 {
		return nil, fmt.Errorf("faulty: empty report: %w", ErrNotXLSX)
	}
	maxUnzip := opts.MaxUnzipSize
	if maxUnzip <= 0 {
		maxUnzip = DefaultMaxUnzipSize
	}
	maxXML := opts.MaxXMLSize
	if maxXML <= 0 {
		maxXML = DefaultMaxXMLSize
	}
	maxXML = min(maxXML, maxUnzip)
	if size > maxUnzip {
		return nil, fmt.Errorf("faulty: report of %d bytes exceeds the %d-byte cap", size, maxUnzip)
	}
	// Check the zip structure first so garbage and truncated downloads get a clear message.
	if _, err := zip.NewReader(r, size); err != nil {
		return nil, fmt.Errorf("faulty: report: %w (%v)", ErrNotXLSX, err)
	}
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		RawCellValue:      true,
		UnzipSizeLimit:    maxUnzip,
		UnzipXMLSizeLimit: maxXML,
		TmpDir:            opts.TempDir,
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return nil, fmt.Errorf("faulty: report: %w (%v)", ErrNotXLSX, err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		_ = f.Close()
		return nil, fmt.Errorf("faulty: report has no worksheet: %w", ErrNotXLSX)
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("faulty: report: %w (%v)", ErrNotXLSX, err)
	}
	rr := &ReportReader{f: f, rows: rows, loc: orUTC(opts.Location)}
	if err := rr.findHeader(); err != nil {
		_ = rr.Close()
		return nil, err
	}
	return rr, nil
}

// normalizeHeader folds case and removes all white space, so "party  id" matches "Party ID".
func normalizeHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\ufeff' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

var (
	knownColumns    = indexColumns(ReportColumns)   // normalised -> canonical
	personalColumns = indexColumns(PersonalColumns) // normalised -> canonical
)

func indexColumns(cols []string) map[string]string {
	m := make(map[string]string, len(cols))
	for _, c := range cols {
		m[normalizeHeader(c)] = c
	}
	return m
}

func (rr *ReportReader) findHeader() error {
	keyParty, keyRef := normalizeHeader(ColPartyID), normalizeHeader(ColAuthorizationReference)
	for rr.row < headerSearchRows && rr.rows.Next() {
		rr.row++
		cells, err := rr.rows.Columns()
		if err != nil {
			return fmt.Errorf("faulty: report row %d: %w (%v)", rr.row, ErrNotXLSX, err)
		}
		var hasParty, hasRef bool
		for _, c := range cells {
			switch normalizeHeader(c) {
			case keyParty:
				hasParty = true
			case keyRef:
				hasRef = true
			}
		}
		if !hasParty || !hasRef {
			continue
		}
		rr.headerRow = rr.row
		return rr.mapColumns(cells)
	}
	if err := rr.rows.Error(); err != nil {
		return fmt.Errorf("faulty: report: %w (%v)", ErrNotXLSX, err)
	}
	return &HeaderError{}
}

func (rr *ReportReader) mapColumns(cells []string) error {
	rr.index = make(map[string]int, len(ReportColumns))
	herr := &HeaderError{Row: rr.headerRow}
	for i, c := range cells {
		n := normalizeHeader(c)
		if _, personal := personalColumns[n]; n == "" || personal {
			continue
		}
		canon, ok := knownColumns[n]
		if !ok {
			rr.ignored = append(rr.ignored, strings.TrimSpace(c))
			continue
		}
		if _, dup := rr.index[canon]; dup {
			herr.Duplicate = append(herr.Duplicate, canon)
			continue
		}
		rr.index[canon] = i
	}
	for _, c := range ReportColumns {
		if _, ok := rr.index[c]; !ok {
			herr.Missing = append(herr.Missing, c)
		}
	}
	if len(herr.Missing) > 0 || len(herr.Duplicate) > 0 {
		return herr
	}
	return nil
}

// HeaderRow returns the row number the header was found on.
func (rr *ReportReader) HeaderRow() int { return rr.headerRow }

// Ignored returns the names of non-personal columns that are not part of the contract.
func (rr *ReportReader) Ignored() []string { return rr.ignored }

// Next returns the next non-empty data row, or io.EOF after the last. A *RowError means that
// row had a bad value and was skipped; Next may be called again. Other errors are final.
func (rr *ReportReader) Next() (ReportRow, error) {
	if rr.done {
		return ReportRow{}, io.EOF
	}
	for rr.rows.Next() {
		rr.row++
		cells, err := rr.rows.Columns()
		if err != nil {
			rr.done = true
			return ReportRow{}, fmt.Errorf("faulty: report row %d: %w", rr.row, err)
		}
		if rr.blank(cells) {
			continue
		}
		return rr.parse(cells)
	}
	rr.done = true
	if err := rr.rows.Error(); err != nil {
		return ReportRow{}, fmt.Errorf("faulty: report after row %d: %w", rr.row, err)
	}
	return ReportRow{}, io.EOF
}

// blank reports whether every contract cell of the row is empty (personal cells are not read).
func (rr *ReportReader) blank(cells []string) bool {
	for _, i := range rr.index {
		if i < len(cells) && strings.TrimSpace(cells[i]) != "" {
			return false
		}
	}
	return true
}

func (rr *ReportReader) cell(cells []string, col string) string {
	i := rr.index[col]
	if i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

func (rr *ReportReader) parse(cells []string) (ReportRow, error) {
	get := func(col string) string { return rr.cell(cells, col) }
	row := ReportRow{
		Row:                    rr.row,
		PartyID:                get(ColPartyID),
		PartnerName:            get(ColPartnerName),
		AuthorizationReference: get(ColAuthorizationReference),
		ChargerStationID:       get(ColChargerStationID),
		StationName:            get(ColStationName),
		City:                   get(ColCity),
		State:                  get(ColState),
		ConnectorID:            get(ColConnectorID),
		PaymentStatus:          get(ColPaymentStatus),
		FaultyReasons:          get(ColFaultyReasons),
		CDRID:                  get(ColCDRID),
		OCPISessionID:          get(ColOCPISessionID),
		StartSoC:               get(ColStartSoC),
		StopSoC:                get(ColStopSoC),
	}
	var err error
	if row.EnergyConsumed, err = ParseKWh(get(ColEnergyConsumed)); err != nil {
		return ReportRow{}, &RowError{Row: rr.row, Column: ColEnergyConsumed, Value: get(ColEnergyConsumed), Err: err}
	}
	for _, tc := range []struct {
		col string
		dst *time.Time
	}{{ColScheduledTime, &row.ScheduledTime}, {ColStartTime, &row.StartTime}, {ColEndTime, &row.EndTime}} {
		v := get(tc.col)
		if *tc.dst, err = ParseReportTime(v, rr.loc); err != nil {
			return ReportRow{}, &RowError{Row: rr.row, Column: tc.col, Value: v, Err: err}
		}
	}
	return row, nil
}

// Close releases the workbook and any temporary files.
func (rr *ReportReader) Close() error {
	if rr.f == nil {
		return nil
	}
	var errs []error
	if rr.rows != nil {
		if err := rr.rows.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, rr.f.Close())
	rr.f, rr.rows = nil, nil
	return errors.Join(errs...)
}

// ReportTimeLayout is the text layout of report times without an offset (in EMSP_TZ).
const ReportTimeLayout = "2006-01-02 15:04:05"

// ParseReportTime parses a report time cell: an Excel date serial (wall time in loc), text in
// ReportTimeLayout (in loc) or RFC 3339. The result is in UTC; an empty cell gives the zero time.
func ParseReportTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	loc = orUTC(loc)
	if t, err := time.ParseInLocation(ReportTimeLayout, s, loc); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if serial, err := strconv.ParseFloat(s, 64); err == nil {
		return excelSerialTime(serial, loc)
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want an Excel date, %q or RFC 3339", s, ReportTimeLayout)
}

// excelSerialTime converts an Excel 1900-system serial to the wall time it denotes in loc,
// rounded to the second.
func excelSerialTime(serial float64, loc *time.Location) (time.Time, error) {
	// 61 is 1900-03-01; earlier serials carry Excel's 1900 leap-year bug and are not report dates.
	if math.IsNaN(serial) || serial < 61 || serial > 2958465 {
		return time.Time{}, fmt.Errorf("Excel date %v out of range", serial)
	}
	days := math.Floor(serial)
	secs := int(math.Round((serial - days) * 86400))
	base := time.Date(1899, time.December, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
	return time.Date(base.Year(), base.Month(), base.Day(), base.Hour(), base.Minute(), base.Second(), 0, loc).UTC(), nil
}
