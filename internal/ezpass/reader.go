package ezpass

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Defaults for Options.
const (
	// DefaultLocation is the time zone of E-ZPass wall-clock times (EZPASS_TZ).
	DefaultLocation = "America/New_York"
	// DefaultMaxXLSXUnzipBytes caps a workbook's unpacked size: 1 GiB.
	DefaultMaxXLSXUnzipBytes = 1 << 30
	// DefaultMaxXLSXXMLBytes is the largest workbook part kept in memory: 16 MiB.
	DefaultMaxXLSXXMLBytes = 16 << 20
	// DefaultMaxLineBytes caps one CSV line: 1 MiB.
	DefaultMaxLineBytes = 1 << 20
)

// maxHeaderScan is how many non-blank rows may precede the header row.
const maxHeaderScan = 10

// Options tunes reading; the zero value reads with the defaults.
type Options struct {
	// Location is the time zone of the file's wall-clock times; nil means America/New_York.
	Location *time.Location
	// Exclusions are the exclusion rules; nil means DefaultExclusions(), an empty slice none.
	Exclusions []ExclusionRule
	// MaxXLSXUnzipBytes caps the uncompressed size of a workbook; 0 means 1 GiB.
	MaxXLSXUnzipBytes int64
	// MaxXLSXXMLBytes is the largest workbook part kept in memory (larger ones go to TempDir); 0 means 16 MiB.
	MaxXLSXXMLBytes int64
	// MaxLineBytes caps one line of a CSV file; 0 means 1 MiB.
	MaxLineBytes int
	// TempDir receives large workbook parts while reading; empty means the system default.
	TempDir string
}

// config is Options with defaults applied and rules prepared.
type config struct {
	loc      *time.Location
	rules    []exclusion
	maxUnzip int64
	maxXML   int64
	maxLine  int
	tempDir  string
}

func (o Options) resolve() (config, error) {
	c := config{
		loc:      o.Location,
		maxUnzip: o.MaxXLSXUnzipBytes,
		maxXML:   o.MaxXLSXXMLBytes,
		maxLine:  o.MaxLineBytes,
		tempDir:  o.TempDir,
	}
	if c.loc == nil {
		loc, err := time.LoadLocation(DefaultLocation)
		if err != nil {
			return c, fmt.Errorf("ezpass: load time zone %s (is tzdata installed?): %w", DefaultLocation, err)
		}
		c.loc = loc
	}
	if c.maxUnzip < 0 || c.maxXML < 0 || c.maxLine < 0 {
		return c, errors.New("ezpass: size limits must not be negative")
	}
	if c.maxUnzip == 0 {
		c.maxUnzip = DefaultMaxXLSXUnzipBytes
	}
	if c.maxXML == 0 {
		c.maxXML = DefaultMaxXLSXXMLBytes
	}
	c.maxXML = min(c.maxXML, c.maxUnzip)
	if c.maxLine == 0 {
		c.maxLine = DefaultMaxLineBytes
	}
	var err error
	c.rules, err = prepareExclusions(o.Exclusions)
	return c, err
}

// FileKind is the container of an export.
type FileKind string

// The file kinds Open reads.
const (
	// FileCSV is comma-separated UTF-8 text, with or without a byte-order mark.
	FileCSV FileKind = "csv"
	// FileXLSX is an Excel workbook (Office Open XML); its first sheet is read.
	FileXLSX FileKind = "xlsx"
)

// ErrTooLarge is wrapped by the FileError for a workbook that would unpack
// beyond Options.MaxXLSXUnzipBytes, or a CSV line beyond Options.MaxLineBytes.
var ErrTooLarge = errors.New("ezpass: file too large")

// FileError reports a file that cannot be read at all; its message is
// written for a finance user.
type FileError struct {
	Message string // what is wrong and what to do
	Err     error  // the underlying cause, if any
}

// Error returns the message.
func (e *FileError) Error() string { return e.Message }

// Unwrap returns the underlying cause.
func (e *FileError) Unwrap() error { return e.Err }

// source yields the cells of a file row by row.
type source interface {
	// next returns the next row's cells and its 1-based line or row number;
	// io.EOF at the end, a *RowError for an unreadable row (reading may go
	// on), any other error is final.
	next() (cells []string, line int, err error)
	// progress reports the input consumed so far: done of total bytes
	// (total 0 when unknown).
	progress() (done, total int64)
	close() error
}

// Reader reads the transactions of one export, one row at a time, holding
// one row in memory.
type Reader struct {
	src      source
	kind     FileKind
	format   Format
	cols     columnMap
	header   []string // display names of the header cells
	minWidth int      // cells a CSV line needs: up to the last named column
	xlsx     bool
	date1904 bool
	cfg      config
	err      error // sticky final error
}

// Open starts reading an export: it tells an XLSX workbook from CSV text by
// its first bytes (then by the file name's extension), finds the header row
// among the first rows and detects the format. r must stay readable until
// Close. CSV is streamed; a workbook is held in memory compressed (excelize's
// OpenReader reads it whole) while parts larger than MaxXLSXXMLBytes are
// unpacked to TempDir and streamed. Errors are *FileError, *FormatError, or a
// problem with opts.
func Open(r io.ReaderAt, size int64, fileName string, opts Options) (*Reader, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, errors.New("ezpass: negative file size")
	}
	kind, err := sniff(r, size, fileName)
	if err != nil {
		return nil, err
	}
	rd := &Reader{kind: kind, cfg: cfg, xlsx: kind == FileXLSX}
	switch kind {
	case FileXLSX:
		xs, err := openXLSX(r, size, cfg)
		if err != nil {
			return nil, err
		}
		rd.src, rd.date1904 = xs, xs.date1904
	default:
		rd.src = openCSV(r, size, cfg.maxLine)
	}
	if err := rd.readHeader(); err != nil {
		_ = rd.src.close()
		return nil, err
	}
	return rd, nil
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}
	utf8BOM  = []byte{0xef, 0xbb, 0xbf}
)

// sniff decides the file kind: the magic bytes first, the extension second.
func sniff(r io.ReaderAt, size int64, fileName string) (FileKind, error) {
	head := make([]byte, min(size, 8))
	if n, err := r.ReadAt(head, 0); n < len(head) {
		return "", fmt.Errorf("ezpass: read %s: %w", fileName, err)
	}
	ext := strings.ToLower(filepath.Ext(fileName))
	switch {
	case bytes.HasPrefix(head, zipMagic):
		return FileXLSX, nil
	case bytes.HasPrefix(head, oleMagic):
		return "", &FileError{Message: "This is an old-style Excel (.xls) or password-protected workbook. " +
			"Save it as Excel Workbook (.xlsx) or CSV, without a password, and try again."}
	case ext == ".xlsx" || ext == ".xlsm":
		return "", &FileError{Message: "This file is named like an Excel workbook but is not one. " +
			"Export the transaction report again as Excel (.xlsx) or CSV and try again."}
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return "", &FileError{Message: "This file is saved as UTF-16 (\"Unicode\") text. " +
			"Save it as CSV UTF-8 (comma delimited) and try again."}
	}
	return FileCSV, nil
}

// readHeader skips blank rows and finds the header among the first
// maxHeaderScan non-blank rows; without one it reports the closest miss.
func (r *Reader) readHeader() error {
	var closest *FormatError
	for scanned := 0; scanned < maxHeaderScan; {
		cells, _, err := r.src.next()
		var rowErr *RowError
		switch {
		case errors.Is(err, io.EOF):
			scanned = maxHeaderScan
			continue
		case errors.As(err, &rowErr):
			scanned++
			continue
		case err != nil:
			return err
		case blank(cells):
			continue
		}
		scanned++
		format, cols, ferr := detect(cells)
		if ferr == nil {
			r.format, r.cols = format, cols
			r.header = headerNames(cells)
			for i, c := range cells {
				if strings.TrimFunc(c, isSpace) != "" {
					r.minWidth = i + 1
				}
			}
			return nil
		}
		if closest == nil || ferr.matched > closest.matched {
			closest = ferr
		}
	}
	if closest == nil {
		return &FormatError{}
	}
	return closest
}

// headerNames are the header cells as shown in Raw: trimmed, blank ones
// named "Column N", repeated ones suffixed " (2)", " (3)"…
func headerNames(cells []string) []string {
	names := make([]string, len(cells))
	used := make(map[string]bool, len(cells))
	for i, c := range cells {
		base := clip(strings.TrimFunc(cleanText(c), isSpace), maxHeaderName)
		if base == "" {
			base = fmt.Sprintf("Column %d", i+1)
		}
		name := base
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s (%d)", base, n)
		}
		used[name] = true
		names[i] = name
	}
	return names
}

// Format returns the detected format.
func (r *Reader) Format() Format { return r.format }

// FileKind returns whether the file is CSV or XLSX.
func (r *Reader) FileKind() FileKind { return r.kind }

// Header returns the header row's column names as used in Row.Raw.
func (r *Reader) Header() []string { return append([]string(nil), r.header...) }

// Progress reports how much of the input has been read: done of total
// bytes. For CSV they are the file's bytes read; for a workbook, how far
// into the first sheet's uncompressed XML the current row starts, against
// that XML's size (the zip directory's). total is 0 when unknown; at the
// end done equals total. It is cheap enough to call after every row.
func (r *Reader) Progress() (done, total int64) {
	if r.src == nil {
		return 0, 0
	}
	return r.src.progress()
}

// Close releases the reader's resources (temporary files of large workbooks).
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = nil
	if r.err == nil {
		r.err = errors.New("ezpass: reader closed")
	}
	return err
}

// Next returns the next transaction row. Blank rows are skipped. At the end
// it returns io.EOF. For a bad row it returns a *RowError together with a
// Row holding just Line and Raw; the caller records it and calls Next again.
// Any other error is final and returned again by later calls.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		cells, line, err := r.src.next()
		if err != nil {
			var rowErr *RowError
			if errors.As(err, &rowErr) {
				return Row{Line: rowErr.Line}, err
			}
			r.err = err
			return Row{}, err
		}
		if blank(cells) {
			continue
		}
		if err := r.checkSizes(cells, line); err != nil {
			return Row{Line: line}, err
		}
		return r.parse(cells, line)
	}
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimFunc(c, isSpace) != "" {
			return false
		}
	}
	return true
}

// MaxCellChars is Excel's own limit on a cell's text: a longer value is
// refused as a row error (and, in a workbook, far longer ones refuse the
// file before they are read into memory).
const MaxCellChars = 32767

// maxHeaderName bounds a header name as kept in Raw and row errors.
const maxHeaderName = 100

// maxRawBytes bounds the text of one row as stored (Raw).
const maxRawBytes = 48 << 10

// fieldLimits are the longest values stored per field (the schema's limits).
var fieldLimits = []struct {
	f   field
	max int
}{
	{fieldLaneTxnID, 64}, {fieldTagPlate, 64}, {fieldAgency, 100}, {fieldEntryPlaza, 100}, {fieldExitPlaza, 100},
	{fieldPlazaID, 100}, {fieldClass, 32},
}

// checkSizes refuses a row holding a cell longer than MaxCellChars, a field
// longer than the database keeps, or more text than a row may store.
func (r *Reader) checkSizes(cells []string, line int) error {
	total := 0
	for i, c := range cells {
		if len(c) > MaxCellChars && utf8.RuneCountInString(c) > MaxCellChars {
			name := fmt.Sprintf("Column %d", i+1)
			if i < len(r.header) {
				name = r.header[i]
			}
			return &RowError{Line: line, Column: name, Value: clip(cleanText(c), 60), Message: fmt.Sprintf(
				"%s holds %d characters, more than a spreadsheet cell can (%d); this is not an E-ZPass export value.",
				name, utf8.RuneCountInString(c), MaxCellChars)}
		}
		total += len(c)
	}
	if total > maxRawBytes {
		return &RowError{Line: line, Message: fmt.Sprintf(
			"This row holds %s of text, more than an E-ZPass transaction can (%s).", byteSize(int64(total)), byteSize(maxRawBytes))}
	}
	for _, l := range fieldLimits {
		i := r.cols[l.f]
		if i < 0 || i >= len(cells) {
			continue
		}
		if v := strings.TrimFunc(cells[i], isSpace); utf8.RuneCountInString(v) > l.max {
			return r.rowError(l.f, cleanText(v), line, "is longer than %d characters; check that the columns are not shifted.", l.max)
		}
	}
	return nil
}

// maxExtraRaw bounds how many cells beyond the header a row's Raw keeps;
// such a row is an error anyway, and a line of commas must not balloon.
const maxExtraRaw = 256

// parse turns one row's cells into a Row.
func (r *Reader) parse(cells []string, line int) (Row, error) {
	n := max(min(len(cells), len(r.header)+maxExtraRaw), len(r.header))
	row := Row{Line: line, Raw: make(RawValues, 0, n)}
	for i := range n {
		var f Field
		if i < len(r.header) {
			f.Name = r.header[i]
		} else {
			f.Name = fmt.Sprintf("Column %d", i+1)
		}
		if i < len(cells) {
			f.Value = cleanText(cells[i])
		}
		row.Raw = append(row.Raw, f)
	}
	if err := r.checkWidth(cells, line); err != nil {
		return row, err
	}
	get := func(f field) string {
		if i := r.cols[f]; i >= 0 {
			return strings.TrimFunc(row.Raw[i].Value, isSpace)
		}
		return ""
	}

	row.LaneTxnID = r.idText(get(fieldLaneTxnID))
	row.TagOrPlate = r.idText(get(fieldTagPlate))
	row.Tag, row.PlateState, row.Plate = parseVehicle(row.TagOrPlate)
	if len(row.Tag) > 32 || len(row.Plate) > 32 || len(row.PlateState) > 8 {
		return row, r.rowError(fieldTagPlate, row.TagOrPlate, line, "is too long for a tag or plate number.")
	}
	row.Agency = get(fieldAgency)
	row.EntryPlaza = get(fieldEntryPlaza)
	row.ExitPlaza = get(fieldExitPlaza)
	row.Plaza = r.idText(get(fieldPlazaID))
	row.Class = r.idText(get(fieldClass))
	row.Activity = get(fieldActivity)

	amount, err := r.amount(get(fieldAmount), line)
	if err != nil {
		return row, err
	}
	switch r.format {
	case FormatA, FormatB:
		row.AmountCents = -amount // the export writes tolls negative
	default:
		row.AmountCents = amount
	}

	if row.TxnAt, err = r.txnTime(get, line); err != nil {
		return row, err
	}
	if r.cols[fieldPostedDate] >= 0 {
		if row.PostedOn, err = r.postedOn(get(fieldPostedDate), line); err != nil {
			return row, err
		}
	}
	classify(&row, r.cfg.rules)
	return row, nil
}

// checkWidth rejects a row whose values do not sit under the header: a CSV
// line with fewer values than the header has named columns, or with more
// values than the header has columns (a missing or extra comma shifts every
// column after it); or a value beyond the last header column. Blank extra
// cells (a trailing comma) are fine.
func (r *Reader) checkWidth(cells []string, line int) error {
	width := len(r.header)
	if !r.xlsx && (len(cells) < r.minWidth || len(cells) > width) {
		if len(cells) < width || !blank(cells[width:]) {
			return &RowError{Line: line, Message: fmt.Sprintf(
				"This line has %d values but the header has %d columns; check for a missing or extra comma or quote.",
				len(cells), width)}
		}
	}
	for i := width; i < len(cells); i++ {
		if strings.TrimFunc(cells[i], isSpace) != "" {
			col, _ := excelize.ColumnNumberToName(i + 1)
			return &RowError{Line: line, Value: clip(cleanText(cells[i]), 200), Message: fmt.Sprintf(
				"This row has a value in column %s, which has no header.", col)}
		}
	}
	return nil
}

// idText undoes a spreadsheet storing an id as a number in scientific
// notation ("1.23456789012E+11"); other text is returned as is.
func (r *Reader) idText(s string) string {
	if !r.xlsx || !strings.ContainsAny(s, ".eE") {
		return s
	}
	if d, ok := parseDecimalNumber(s); ok {
		if v, ok := d.integer(); ok {
			return v
		}
	}
	return s
}

// rowError builds a RowError about the value of a field.
func (r *Reader) rowError(f field, value string, line int, format string, args ...any) *RowError {
	name := r.header[r.cols[f]]
	return &RowError{
		Line:    line,
		Column:  name,
		Value:   clip(value, 200),
		Message: name + " " + fmt.Sprintf(format, args...),
	}
}

// amount parses the Amount cell with the sign as written. In a workbook a
// numeric cell is read as a number of dollars.
func (r *Reader) amount(s string, line int) (int64, error) {
	if s == "" {
		return 0, r.rowError(fieldAmount, s, line, "is empty.")
	}
	if r.xlsx {
		if d, ok := parseDecimalNumber(s); ok {
			if c, ok := d.cents(); ok {
				return c, nil
			}
			return 0, r.rowError(fieldAmount, s, line, "'%s' is not a whole number of cents.", clip(s, 60))
		}
	}
	c, ok := parseAmount(s)
	if !ok {
		return 0, r.rowError(fieldAmount, s, line, "'%s' is not a dollar amount like $9.11.", clip(s, 60))
	}
	return c, nil
}

// wall parses a date or time cell; in a workbook a plain number is an Excel
// serial date-time.
func (r *Reader) wall(s string) (wall, bool) {
	if r.xlsx {
		if _, ok := parseDecimalNumber(s); ok {
			return parseSerial(s, r.date1904)
		}
	}
	return parseWallText(s)
}

// txnTime combines the date and time cells into the transaction instant.
// The time cell is Exit Time (A), Time (B), or EXIT TIME else ENTRY TIME (C).
// A time cell holding a date-time wins over the date cell; without any time
// the row is at midnight.
func (r *Reader) txnTime(get func(field) string, line int) (time.Time, error) {
	dateText := get(fieldDate)
	var date wall
	if dateText != "" {
		w, ok := r.wall(dateText)
		if !ok || !w.hasDate {
			return time.Time{}, r.rowError(fieldDate, dateText, line, "'%s' is not a date like 1/15/2026.", clip(dateText, 60))
		}
		date = w
	}
	timeField := fieldExitTime
	if r.format == FormatC && get(fieldExitTime) == "" {
		timeField = fieldEntryTime
	}
	var clock wall
	if timeText := get(timeField); timeText != "" {
		w, ok := r.wall(timeText)
		if !ok {
			return time.Time{}, r.rowError(timeField, timeText, line, "'%s' is not a time like 8:15:22 AM.", clip(timeText, 60))
		}
		clock = w
	}

	w := wall{}
	switch {
	case clock.hasDate:
		w.year, w.month, w.day = clock.year, clock.month, clock.day
	case date.hasDate:
		w.year, w.month, w.day = date.year, date.month, date.day
	default:
		return time.Time{}, r.rowError(fieldDate, "", line, "is empty.")
	}
	switch {
	case clock.hasTime:
		w.hour, w.min, w.sec = clock.hour, clock.min, clock.sec
	case date.hasTime:
		w.hour, w.min, w.sec = date.hour, date.min, date.sec
	}
	return localTime(w.year, w.month, w.day, w.hour, w.min, w.sec, r.cfg.loc), nil
}

// postedOn parses the posting date; empty is allowed (zero time).
func (r *Reader) postedOn(s string, line int) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	w, ok := r.wall(s)
	if !ok || !w.hasDate {
		return time.Time{}, r.rowError(fieldPostedDate, s, line, "'%s' is not a date like 1/15/2026.", clip(s, 60))
	}
	return time.Date(w.year, w.month, w.day, 0, 0, 0, 0, time.UTC), nil
}
