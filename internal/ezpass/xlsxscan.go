package ezpass

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits of the workbook pre-scan: the XML a streaming reader would have to
// hold at once. excelize materialises a whole cell (and a whole row) while
// streaming, so a single huge cell would otherwise be read into memory.
const (
	// maxCellXMLBytes is the most XML text one cell (or shared string) may
	// hold: MaxCellChars at 4 bytes a character.
	maxCellXMLBytes = MaxCellChars * 4
	// maxRowXMLBytes is the most XML one row may take.
	maxRowXMLBytes = 4 << 20
	// maxRowCells is the most cells one row may have.
	maxRowCells = 1024
	// maxMarkupBytes is the longest tag, comment or processing instruction.
	maxMarkupBytes = 64 << 10
	// maxInMemoryXMLBytes bounds the parts excelize reads whole (every part
	// but the worksheets and shared strings it spills to disk).
	maxInMemoryXMLBytes = 96 << 20
)

// errHugeCell is the cause of a workbook refused by the pre-scan.
var errHugeCell = errors.New("ezpass: workbook cell or row too large")

func hugeCellWorkbook(what string) *FileError {
	return &FileError{
		Message: fmt.Sprintf("This Excel file is not an E-ZPass export: %s (a cell holds at most %d characters). "+
			"Export the transaction report from the E-ZPass account again and try again.", what, MaxCellChars),
		Err: errHugeCell,
	}
}

// scanWorkbook streams every worksheet and the shared strings of a workbook
// through a small XML scanner, refusing a cell, row or tag too large to be
// read safely, and refuses any other part larger than maxXML (those parts are
// read whole). It holds only a buffer in memory whatever the file.
func scanWorkbook(zr *zip.Reader, maxXML int64) error {
	if err := checkInMemoryParts(zr, maxXML); err != nil {
		return err
	}
	_, err := scanParts(zr, "")
	return err
}

// checkInMemoryParts refuses a workbook whose parts read whole (every part
// but the large sheets and shared strings) would take more than
// maxInMemoryXMLBytes; it reads only the zip directory.
func checkInMemoryParts(zr *zip.Reader, maxXML int64) error {
	var inMemory uint64
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
		spilled := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		if !spilled || f.UncompressedSize64 <= uint64(maxXML) {
			inMemory += f.UncompressedSize64
			if inMemory > maxInMemoryXMLBytes {
				return hugeCellWorkbook(fmt.Sprintf("its parts other than the sheets unpack to more than %s", byteSize(maxInMemoryXMLBytes)))
			}
		}
	}
	return nil
}

// scanParts scans every worksheet and the shared strings (see scanXML);
// for the part named indexPart it also returns where its rows start.
func scanParts(zr *zip.Reader, indexPart string) (*rowIndex, error) {
	var idx *rowIndex
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
		if !(strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml")) && name != "xl/sharedstrings.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, damagedWorkbook(err)
		}
		var ri *rowIndex
		if indexPart != "" && name == indexPart {
			ri = &rowIndex{size: int64(f.UncompressedSize64)}
			idx = ri
		}
		err = scanXMLIndex(bufio.NewReaderSize(rc, 64<<10), ri)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	return idx, nil
}

// rowIndexEvery is how many rows apart a rowIndex samples offsets.
const rowIndexEvery = 512

// rowIndex samples where a sheet's rows start in its uncompressed XML: the
// offset of row element number k*rowIndexEvery+1 (1-based, in document
// order) is offsets[k]. A million rows take 2,000 offsets.
type rowIndex struct {
	size    int64 // uncompressed size of the part (zip directory)
	rows    int   // row elements seen
	offsets []int64
}

// offset is how far into the sheet's XML the row element number n
// (1-based) starts, to rowIndexEvery rows (never past the end).
func (x *rowIndex) offset(n int) int64 {
	if x == nil || len(x.offsets) == 0 || n < 1 {
		return 0
	}
	k := min((n-1)/rowIndexEvery, len(x.offsets)-1)
	return min(x.offsets[k], x.size)
}

// scanXML checks one XML part: the text of one cell (<c>) or shared string
// (<si>), the XML of one row, the cells of one row and every tag or comment
// stay within the limits above.
func scanXML(br *bufio.Reader) error { return scanXMLIndex(br, nil) }

// scanXMLIndex is scanXML that also records, when idx is not nil, where the
// part's rows start.
func scanXMLIndex(br *bufio.Reader, idx *rowIndex) error {
	var cellText, rowBytes, cells int
	var pos int64 // bytes of the part consumed
	for {
		// Text up to the next markup.
		text, err := skipUntil(br, '<', maxCellXMLBytes-cellText+1)
		cellText += text
		rowBytes += text
		pos += int64(text)
		if cellText > maxCellXMLBytes {
			return hugeCellWorkbook(fmt.Sprintf("a cell holds more than %s of text", byteSize(maxCellXMLBytes)))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return damagedWorkbook(err)
		}
		markupAt := pos
		pos++ // '<'
		n, name, cdata, err := scanMarkup(br)
		pos += int64(n)
		if err != nil {
			if errors.Is(err, errHugeCell) {
				return hugeCellWorkbook(fmt.Sprintf("a tag or comment is longer than %s", byteSize(maxMarkupBytes)))
			}
			if errors.Is(err, io.EOF) {
				return nil // a truncated part: excelize reports it
			}
			return damagedWorkbook(err)
		}
		rowBytes += n
		if i := strings.IndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		switch name {
		case "row":
			rowBytes, cells = 0, 0
			if idx != nil {
				if idx.rows%rowIndexEvery == 0 {
					idx.offsets = append(idx.offsets, markupAt)
				}
				idx.rows++
			}
		case "c":
			cells++
			cellText = 0
		case "si":
			cellText = 0
		}
		cellText += cdata
		switch {
		case cellText > maxCellXMLBytes:
			return hugeCellWorkbook(fmt.Sprintf("a cell holds more than %s of text", byteSize(maxCellXMLBytes)))
		case rowBytes > maxRowXMLBytes:
			return hugeCellWorkbook(fmt.Sprintf("a row takes more than %s", byteSize(maxRowXMLBytes)))
		case cells > maxRowCells:
			return hugeCellWorkbook(fmt.Sprintf("a row has more than %d cells", maxRowCells))
		}
	}
}

// skipUntil consumes bytes up to and including stop, returning how many it
// consumed before stop; it gives up once more than limit were consumed.
func skipUntil(br *bufio.Reader, stop byte, limit int) (int, error) {
	n := 0
	for {
		b, err := br.ReadSlice(stop)
		if errors.Is(err, bufio.ErrBufferFull) {
			n += len(b)
			if n > limit {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n + len(b), err
		}
		return n + len(b) - 1, nil
	}
}

// scanMarkup consumes one markup after '<': a tag (its name is returned),
// a comment, a processing instruction or a CDATA section (its length is
// returned as cdata). n is the bytes consumed.
func scanMarkup(br *bufio.Reader) (n int, name string, cdata int, err error) {
	head, _ := br.Peek(9)
	switch {
	case strings.HasPrefix(string(head), "!--"):
		n, err = skipPast(br, "-->", maxMarkupBytes)
		return n, "", 0, err
	case strings.HasPrefix(string(head), "![CDATA["):
		n, err = skipPast(br, "]]>", maxCellXMLBytes)
		return n, "", n, err
	case strings.HasPrefix(string(head), "?"), strings.HasPrefix(string(head), "!"):
		n, err = skipPast(br, ">", maxMarkupBytes)
		return n, "", 0, err
	}
	// A tag: its name, then attributes up to '>' outside quotes.
	var nameB strings.Builder
	var quote byte
	inName := true
	for {
		b, err := br.ReadByte()
		if err != nil {
			return n, "", 0, err
		}
		n++
		if n > maxMarkupBytes {
			return n, "", 0, errHugeCell
		}
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '"' || b == '\'':
			quote = b
		case b == '>':
			return n, nameB.String(), 0, nil
		}
		if inName {
			if b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '/' && nameB.Len() > 0 || b == '>' {
				inName = false
			} else if nameB.Len() < 32 {
				nameB.WriteByte(b)
			}
		}
	}
}

// skipPast consumes bytes through the end marker, at most limit of them.
func skipPast(br *bufio.Reader, end string, limit int) (int, error) {
	n, matched := 0, 0
	for {
		b, err := br.ReadByte()
		if err != nil {
			return n, err
		}
		n++
		if n > limit {
			return n, errHugeCell
		}
		if b == end[matched] {
			matched++
			if matched == len(end) {
				return n, nil
			}
		} else if b == end[0] {
			matched = 1
		} else {
			matched = 0
		}
	}
}
