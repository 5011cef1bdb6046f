package ezpass

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"
)

// csvSource reads CSV text, one record at a time.
type csvSource struct {
	cr   *csv.Reader
	in   *countingReader
	size int64
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func openCSV(r io.ReaderAt, size int64, maxLine int) *csvSource {
	in := &countingReader{r: io.NewSectionReader(r, 0, size)}
	br := bufio.NewReaderSize(in, 64<<10)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(&lineLimitReader{r: br, max: maxLine})
	cr.FieldsPerRecord = -1 // ragged rows are reported per row, not fatal
	cr.ReuseRecord = true
	return &csvSource{cr: cr, in: in, size: size}
}

// progress counts the file's bytes read from storage: at most 64 KiB (the
// read buffer) ahead of the row being parsed, the whole file at the end.
func (s *csvSource) progress() (int64, int64) { return s.in.n, s.size }

func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.cr.Read()
	if err == nil {
		line, _ := s.cr.FieldPos(0)
		return rec, line, nil
	}
	var long *lineTooLongError
	if errors.As(err, &long) {
		return nil, 0, &FileError{
			Message: fmt.Sprintf("This file has a line longer than %s, so it is not an E-ZPass export. "+
				"Export the transaction report from the E-ZPass account and try again.", byteSize(int64(long.max))),
			Err: ErrTooLarge,
		}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := "This line could not be read: a quoted value is not closed, or a quote character (\") is out of place."
		if errors.Is(pe.Err, csv.ErrBareQuote) {
			msg = "This line could not be read: a quote character (\") appears inside a value that is not in quotes."
		}
		return nil, 0, &RowError{Line: pe.StartLine, Message: msg}
	}
	return nil, 0, err
}

func (s *csvSource) close() error { return nil }

// lineLimitReader fails once a line (bytes between newlines) exceeds max, so
// that a file without line breaks cannot make the CSV reader buffer it whole.
// The lines before the long one are passed on first.
type lineLimitReader struct {
	r        io.Reader
	max, cur int
	err      error
}

type lineTooLongError struct{ max int }

func (e *lineTooLongError) Error() string {
	return fmt.Sprintf("ezpass: line longer than %d bytes", e.max)
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		seg := n - i
		if j >= 0 {
			seg = j
		}
		if l.cur+seg > l.max {
			l.err = &lineTooLongError{max: l.max}
			if cut := i + l.max - l.cur; cut > 0 {
				return cut, nil
			}
			return 0, l.err
		}
		if j < 0 {
			l.cur += seg
			break
		}
		l.cur, i = 0, i+j+1
	}
	return n, err
}

// xlsxSource streams the first sheet of a workbook.
type xlsxSource struct {
	file     *excelize.File
	rows     *excelize.Rows
	line     int
	date1904 bool
	index    *rowIndex // where the sheet's rows start; nil when the sheet's part is unknown
	done     bool
}

// progress is how far into the sheet's uncompressed XML the current row
// starts, against the part's uncompressed size from the zip directory.
// excelize does not expose its position in the sheet's XML stream, so the
// offsets come from the cell-bomb pre-scan, which reads the same XML anyway
// and notes where every rowIndexEvery-th row element starts: the figure is
// the decompressed bytes of the sheet consumed, to 512 rows (it assumes row
// elements are numbered densely, as exports write them; a sparse sheet
// reads as further along, and never past the end). At the end it is the
// whole part.
func (s *xlsxSource) progress() (int64, int64) {
	if s.index == nil {
		return 0, 0
	}
	if s.done {
		return s.index.size, s.index.size
	}
	return s.index.offset(s.line), s.index.size
}

// errDamaged is the cause given when the workbook library fails unexpectedly.
var errDamaged = errors.New("ezpass: damaged workbook")

func damagedWorkbook(err error) *FileError {
	return &FileError{
		Message: "This Excel file could not be read; it may be damaged. " +
			"Open it in Excel and save it again as Excel Workbook (.xlsx), or export CSV, and try again.",
		Err: err,
	}
}

func tooLargeWorkbook(limit int64) *FileError {
	return &FileError{
		Message: fmt.Sprintf("This Excel file is too large to import: it unpacks to more than %s. "+
			"Export a shorter date range, or export CSV instead, and try again.", byteSize(limit)),
		Err: ErrTooLarge,
	}
}

// openXLSX checks the workbook's unpacked size against the cap before
// handing it to excelize (which enforces the same caps while unpacking), and
// opens a streaming reader on its first sheet.
func openXLSX(r io.ReaderAt, size int64, cfg config) (src *xlsxSource, err error) {
	if size > cfg.maxUnzip {
		return nil, tooLargeWorkbook(cfg.maxUnzip)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, damagedWorkbook(err)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(cfg.maxUnzip) {
			return nil, tooLargeWorkbook(cfg.maxUnzip)
		}
	}
	if err := checkInMemoryParts(zr, cfg.maxXML); err != nil {
		return nil, err
	}
	// The cell-bomb pre-scan reads every sheet while excelize unpacks the
	// workbook (both only decompress, bounded by the caps checked above;
	// nothing is decoded into cells before the scan has passed), so that the
	// two passes over the XML share the machine's cores instead of adding up.
	sheetPart := firstSheetPart(zr)
	type scanned struct {
		index *rowIndex
		err   error
	}
	scan := make(chan scanned, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				scan <- scanned{err: damagedWorkbook(fmt.Errorf("%w: %v", errDamaged, p))}
			}
		}()
		idx, err := scanParts(zr, sheetPart)
		scan <- scanned{idx, err}
	}()
	var index *rowIndex
	scanDone := false
	waitScan := func() error {
		if !scanDone {
			res := <-scan
			index, scanDone = res.index, true
			return res.err
		}
		return nil
	}

	var file *excelize.File
	defer func() {
		if p := recover(); p != nil {
			err = damagedWorkbook(fmt.Errorf("%w: %v", errDamaged, p))
		}
		// The pre-scan's verdict comes first, as when it ran before excelize.
		if scanErr := waitScan(); scanErr != nil {
			err, src = scanErr, nil
		}
		if err != nil && file != nil {
			_ = file.Close()
		}
	}()
	file, err = excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		UnzipSizeLimit:    cfg.maxUnzip,
		UnzipXMLSizeLimit: cfg.maxXML,
		TmpDir:            cfg.tempDir,
	})
	if err != nil {
		return nil, damagedWorkbook(err)
	}
	if err := waitScan(); err != nil {
		return nil, err
	}
	sheets := file.GetSheetList()
	if len(sheets) == 0 {
		return nil, &FileError{Message: "This Excel file has no worksheet. " +
			"Export the transaction report from the E-ZPass account and try again."}
	}
	props, err := file.GetWorkbookProps()
	if err != nil {
		return nil, damagedWorkbook(err)
	}
	rows, err := file.Rows(sheets[0])
	if err != nil {
		return nil, damagedWorkbook(err)
	}
	return &xlsxSource{
		file:     file,
		rows:     rows,
		date1904: props.Date1904 != nil && *props.Date1904,
		index:    index,
	}, nil
}

// next reads the next row with raw cell values: numbers as stored (so that
// dates are serial numbers and amounts are not formatted), text as text.
func (s *xlsxSource) next() (cells []string, line int, err error) {
	defer func() {
		if p := recover(); p != nil {
			cells, line, err = nil, 0, damagedWorkbook(fmt.Errorf("%w: %v", errDamaged, p))
		}
	}()
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, 0, damagedWorkbook(err)
		}
		s.done = true
		return nil, 0, io.EOF
	}
	s.line++
	cells, err = s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, 0, &RowError{Line: s.line, Message: "This row of the workbook could not be read."}
	}
	return cells, s.line, nil
}

func (s *xlsxSource) close() error {
	err := s.rows.Close()
	return errors.Join(err, s.file.Close())
}

// byteSize writes a size for people: "1 GiB", "16 MiB", "512 KiB", "100 bytes".
func byteSize(n int64) string {
	const unit = 1024
	switch {
	case n >= unit*unit*unit && n%(unit*unit*unit) == 0:
		return fmt.Sprintf("%d GiB", n/(unit*unit*unit))
	case n >= unit*unit:
		return fmt.Sprintf("%.1f MiB", float64(n)/(unit*unit))
	case n >= unit:
		return fmt.Sprintf("%.1f KiB", float64(n)/unit)
	}
	return fmt.Sprintf("%d bytes", n)
}

// firstSheetPart names the zip part of the workbook's first sheet (the one
// excelize's GetSheetList()[0] reads), lower case as scanParts compares
// names: the first <sheet> of xl/workbook.xml through its relationship in
// xl/_rels/workbook.xml.rels. It returns "" when they cannot be read (the
// import then shows no percentage; excelize reports a damaged workbook).
func firstSheetPart(zr *zip.Reader) string {
	var wb struct {
		Sheets []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if readSmallXML(zr, "xl/workbook.xml", &wb) != nil || readSmallXML(zr, "xl/_rels/workbook.xml.rels", &rels) != nil || len(wb.Sheets) == 0 {
		return ""
	}
	id := ""
	for _, a := range wb.Sheets[0].Attrs {
		if a.Name.Local == "id" && a.Name.Space != "" {
			id = a.Value
		}
	}
	for _, r := range rels.Rels {
		if r.ID == id && id != "" {
			target := strings.ReplaceAll(r.Target, `\`, "/")
			if strings.HasPrefix(target, "/") {
				target = strings.TrimPrefix(target, "/")
			} else {
				target = path.Clean("xl/" + target)
			}
			return strings.ToLower(target)
		}
	}
	return ""
}

// maxSmallXML bounds the workbook parts firstSheetPart reads.
const maxSmallXML = 4 << 20

// readSmallXML decodes a small part of the zip into v.
func readSmallXML(zr *zip.Reader, name string, v any) error {
	for _, f := range zr.File {
		if !strings.EqualFold(strings.ReplaceAll(f.Name, `\`, "/"), name) {
			continue
		}
		if f.UncompressedSize64 > maxSmallXML {
			return errDamaged
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		return xml.NewDecoder(io.LimitReader(rc, maxSmallXML)).Decode(v)
	}
	return errDamaged
}
