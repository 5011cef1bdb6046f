package ezpass

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Row is one transaction of an export, parsed. Text fields are trimmed.
type Row struct {
	Line        int       // 1-based line (CSV) or row (XLSX) number in the file
	LaneTxnID   string    // the agency's transaction id; empty in statements (format C)
	TagOrPlate  string    // the Tag/Plate value as written
	Tag         string    // transponder number, digits only, when TagOrPlate is a tag (a workbook number cell has lost its leading zeros)
	PlateState  string    // state or province of the plate, when TagOrPlate is a plate
	Plate       string    // plate number, upper-case letters and digits only
	Agency      string    // toll agency, e.g. "MTAB&T"
	EntryPlaza  string    // entry plaza, for closed (ticket) systems
	ExitPlaza   string    // exit plaza, or the plaza of an open system
	Plaza       string    // plaza id (format C), empty otherwise
	Class       string    // vehicle class (A, B) or vehicle type code (C)
	Activity    string    // activity or description (C), e.g. "TOLL", "PAYMENT - THANK YOU"
	TxnAt       time.Time // when the transaction happened, in Options.Location (see the package documentation)
	PostedOn    time.Time // agency's posting date at midnight UTC (B, C); zero for A
	AmountCents int64     // positive = the driver owes (a toll), negative = a credit
	Kind        Kind      // what the row is
	// ExcludedReason says which rule excluded the row, for KindExcluded.
	ExcludedReason string
	Raw            RawValues // the original cells under their header names, in file order
}

// PlazaName is the plaza to show and post: the exit plaza, else the plaza
// id, else the entry plaza.
func (r Row) PlazaName() string {
	switch {
	case r.ExitPlaza != "":
		return r.ExitPlaza
	case r.Plaza != "":
		return r.Plaza
	}
	return r.EntryPlaza
}

// PlateOrTag names the vehicle for people: "NY T123456C", or the tag number.
func (r Row) PlateOrTag() string {
	switch {
	case r.Tag != "":
		return r.Tag
	case r.PlateState != "":
		return r.PlateState + " " + r.Plate
	}
	return r.Plate
}

// Fingerprint identifies a row that has no Lane Txn ID, for de-duplication:
// the hex SHA-256 of its instant (UTC, to the second), tag or state and
// plate, agency, entry, exit and id plazas (case and spacing folded) and
// stored amount. It does not depend on the file's format or column order.
func (r Row) Fingerprint() string {
	vehicle := ""
	switch {
	case r.Tag != "":
		vehicle = "tag:" + r.Tag
	case r.Plate != "":
		vehicle = "plate:" + r.PlateState + ":" + r.Plate
	}
	h := sha256.New()
	for _, part := range []string{
		"ezpass-fingerprint-v1",
		r.TxnAt.UTC().Format(time.RFC3339),
		vehicle,
		nameKey(r.Agency),
		nameKey(r.EntryPlaza),
		nameKey(r.ExitPlaza),
		nameKey(r.Plaza),
		strconv.FormatInt(r.AmountCents, 10),
	} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Field is one original cell under its header name.
type Field struct {
	Name  string // header name as written (trimmed); "Column N" when blank, "Name (2)" when repeated
	Value string // cell text as written; numeric workbook cells as stored (dates as serial numbers)
}

// RawValues are a row's original cells in file order; they encode as a JSON
// object whose keys keep that order.
type RawValues []Field

// Get returns the value under a header name, compared exactly.
func (v RawValues) Get(name string) (string, bool) {
	for _, f := range v {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// MarshalJSON encodes the cells as one JSON object in file order.
func (v RawValues) MarshalJSON() ([]byte, error) {
	return v.AppendJSON(nil), nil
}

// AppendJSON appends the cells as one JSON object in file order, exactly
// as MarshalJSON writes them, to dst. Plain text (printable ASCII that
// encoding/json writes unescaped) is copied as is; any other value goes
// through encoding/json, so the output is the same byte for byte.
func (v RawValues) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, f := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, f.Name)
		dst = append(dst, ':')
		dst = appendJSONString(dst, f.Value)
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string: cannot fail
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// UnmarshalJSON decodes a JSON object of strings, keeping its key order.
func (v *RawValues) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*v = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("ezpass: raw values must be a JSON object")
	}
	out := RawValues{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var value string
		if err := dec.Decode(&value); err != nil {
			return fmt.Errorf("ezpass: raw value of %q: %w", name, err)
		}
		out = append(out, Field{Name: name, Value: value})
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*v = out
	return nil
}

// RowError reports a row that could not be read; the reader goes on with the
// next row.
type RowError struct {
	Line    int    // 1-based line (CSV) or row (XLSX) number
	Column  string // header name of the column at fault; empty when the whole row is
	Value   string // the value at fault, as written (at most 200 characters)
	Message string // what is wrong, for a finance user
}

// Error returns the message prefixed with the row number.
func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Line, e.Message) }

// cleanText makes a cell safe to store and show: invalid UTF-8 becomes
// U+FFFD and NUL bytes are dropped (PostgreSQL text accepts neither).
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
