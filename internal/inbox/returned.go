package inbox

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/masterfile"
)

// The caps of a returned master file: the same as report and import workbooks.
const (
	// MaxReturnedUnzipBytes caps the workbook's total uncompressed size.
	MaxReturnedUnzipBytes = 1 << 30
	// MaxReturnedXMLBytes is the largest sheet part held in memory (larger ones spill to a temp file).
	MaxReturnedXMLBytes = 16 << 20
	// MaxReturnedRows caps the booking rows read.
	MaxReturnedRows = 100_000
	// maxNoteRunes caps a partner note.
	maxNoteRunes = 2000
)

// Response is a partner's answer for one booking.
type Response string

// The responses of the master file's drop-down.
const (
	ResponsePaid     Response = "paid"
	ResponseCredited Response = "credited"
	ResponseDisputed Response = "disputed"
	ResponseWillPay  Response = "will_pay"
	ResponseOther    Response = "other"
)

// Label is the response as the drop-down shows it.
func (r Response) Label() string {
	switch r {
	case ResponsePaid:
		return "Paid"
	case ResponseCredited:
		return "Credited"
	case ResponseDisputed:
		return "Disputed"
	case ResponseWillPay:
		return "Will pay by date"
	}
	return "Other"
}

// ParseResponse reads a drop-down value (case and surrounding spaces ignored).
func ParseResponse(s string) (Response, bool) {
	switch strings.ToLower(strings.Join(strings.Fields(s), " ")) {
	case "paid":
		return ResponsePaid, true
	case "credited":
		return ResponseCredited, true
	case "disputed":
		return ResponseDisputed, true
	case "will pay by date", "will pay":
		return ResponseWillPay, true
	case "other":
		return ResponseOther, true
	}
	return "", false
}

// ReturnedRow is one answered booking of a returned master file.
type ReturnedRow struct {
	// Row is the 1-based sheet row.
	Row      int
	AuthRef  string
	Response Response
	Note     string
}

// Returned is what a returned master file says.
type Returned struct {
	Sheet string
	Rows  []ReturnedRow
	// Problems are rows that could not be used, with reasons a person can act on.
	Problems []string
}

// ErrNotReturnedFile means the workbook has no sheet with the booking
// references and the "Partner response" column: not a returned master file.
var ErrNotReturnedFile = errors.New("no sheet has the \"Authorization Reference\" and \"Partner response\" columns")

// IsWorkbook reports whether an attachment looks like an .xlsx.
func IsWorkbook(name, contentType string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".xlsx") ||
		contentType == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// ReadReturned reads a returned master file, streaming its rows with the
// import caps. Rows whose response and note are both empty are skipped.
func ReadReturned(data []byte) (Returned, error) {
	var out Returned
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: MaxReturnedUnzipBytes, UnzipXMLSizeLimit: MaxReturnedXMLBytes})
	if err != nil {
		return out, fmt.Errorf("the file is not a readable .xlsx workbook (%v)", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	// The Bookings sheet first, then the others.
	for i, s := range sheets {
		if s == masterfile.SheetBookings && i > 0 {
			sheets[0], sheets[i] = sheets[i], sheets[0]
		}
	}
	for _, sheet := range sheets {
		ok, err := readSheet(f, sheet, &out)
		if err != nil {
			return out, err
		}
		if ok {
			out.Sheet = sheet
			return out, nil
		}
	}
	return out, ErrNotReturnedFile
}

// readSheet reads one sheet if its first row has the needed columns.
func readSheet(f *excelize.File, sheet string, out *Returned) (bool, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return false, fmt.Errorf("sheet %q cannot be read (%v)", sheet, err)
	}
	defer rows.Close()
	refCol, respCol, noteCol := -1, -1, -1
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns()
		if err != nil {
			return false, fmt.Errorf("sheet %q row %d cannot be read (%v)", sheet, n, err)
		}
		if n == 1 {
			for i, c := range cells {
				switch strings.ToLower(strings.TrimSpace(c)) {
				case "authorization reference":
					refCol = i
				case strings.ToLower(masterfile.ColPartnerResponse):
					respCol = i
				case strings.ToLower(masterfile.ColPartnerNote):
					noteCol = i
				}
			}
			if refCol < 0 || respCol < 0 {
				return false, nil
			}
			continue
		}
		if n-1 > MaxReturnedRows {
			out.Problems = append(out.Problems, fmt.Sprintf("only the first %d bookings were read", MaxReturnedRows))
			break
		}
		cell := func(i int) string {
			if i < 0 || i >= len(cells) {
				return ""
			}
			return strings.TrimSpace(cells[i])
		}
		ref := strings.TrimPrefix(cell(refCol), "'")
		resp, note := cell(respCol), cell(noteCol)
		if resp == "" && note == "" {
			continue
		}
		if ref == "" {
			out.Problems = append(out.Problems, fmt.Sprintf("row %d: a response without an Authorization Reference", n))
			continue
		}
		r, ok := ParseResponse(resp)
		switch {
		case resp == "":
			r = ResponseOther
		case !ok:
			out.Problems = append(out.Problems, fmt.Sprintf("row %d (%s): %q is not one of %s", n, ref, resp, strings.Join(masterfile.PartnerResponses, ", ")))
			continue
		}
		if rs := []rune(note); len(rs) > maxNoteRunes {
			note = string(rs[:maxNoteRunes])
		}
		out.Rows = append(out.Rows, ReturnedRow{Row: n, AuthRef: ref, Response: r, Note: note})
	}
	if err := rows.Error(); err != nil {
		return false, fmt.Errorf("sheet %q cannot be read (%v)", sheet, err)
	}
	return refCol >= 0 && respCol >= 0, nil
}
