package ezpass

import (
	"fmt"
	"strings"
	"unicode"
)

// Format identifies one of the known E-ZPass export layouts.
type Format string

// The known layouts (DESIGN §5.2).
const (
	// FormatA is the NY transaction report; tolls are negative amounts.
	FormatA Format = "A"
	// FormatB is the transaction report with a posting date; tolls are in parentheses.
	FormatB Format = "B"
	// FormatC is the account statement; tolls are positive amounts.
	FormatC Format = "C"
)

// Description names the format for people.
func (f Format) Description() string {
	switch f {
	case FormatA:
		return "NY transaction report"
	case FormatB:
		return "transaction report with posting date"
	case FormatC:
		return "account statement"
	}
	return "unknown format"
}

// field is a column the reader understands, whatever its header name in a format.
type field int

const (
	fieldLaneTxnID field = iota
	fieldTagPlate
	fieldPostedDate
	fieldAgency
	fieldActivity
	fieldPlazaID
	fieldEntryTime
	fieldEntryPlaza
	fieldEntryLane
	fieldExitTime // A: Exit Time, B: Time, C: EXIT TIME
	fieldExitPlaza
	fieldExitLane
	fieldClass // A, B: Class; C: VEHICLE TYPE CODE
	fieldDate  // A, B: Date; C: TRANSACTION DATE
	fieldAmount
	fieldBalance
	fieldPrepaid
	fieldPlanRate
	fieldFareType
	numFields
)

// column is one column of a layout.
type column struct {
	field    field
	names    []string // accepted header names, preferred first
	optional bool
}

// label is how the column is named in messages.
func (c column) label() string { return strings.Join(c.names, " or ") }

// layout is the header signature of a format.
type layout struct {
	format  Format
	columns []column
}

// layouts lists the formats in the order used to break ties.
var layouts = []layout{
	{FormatA, []column{
		{field: fieldLaneTxnID, names: []string{"Lane Txn ID"}},
		{field: fieldTagPlate, names: []string{"Tag/Plate #"}},
		{field: fieldAgency, names: []string{"Agency"}},
		{field: fieldEntryPlaza, names: []string{"Entry Plaza"}},
		{field: fieldExitPlaza, names: []string{"Exit Plaza"}},
		{field: fieldClass, names: []string{"Class"}},
		{field: fieldDate, names: []string{"Date"}},
		{field: fieldExitTime, names: []string{"Exit Time"}},
		{field: fieldAmount, names: []string{"Amount"}},
	}},
	{FormatB, []column{
		{field: fieldLaneTxnID, names: []string{"Lane Txn ID"}},
		{field: fieldTagPlate, names: []string{"Tag/Plate #"}},
		{field: fieldPostedDate, names: []string{"Posted Date"}},
		{field: fieldAgency, names: []string{"Agency"}},
		{field: fieldEntryPlaza, names: []string{"Entry Plaza"}},
		{field: fieldExitPlaza, names: []string{"Exit Plaza"}},
		{field: fieldClass, names: []string{"Class"}},
		{field: fieldDate, names: []string{"Date"}},
		{field: fieldExitTime, names: []string{"Time"}},
		{field: fieldAmount, names: []string{"Amount"}},
		{field: fieldBalance, names: []string{"Post Txn Balance"}},
	}},
	{FormatC, []column{
		{field: fieldPostedDate, names: []string{"POSTING DATE"}},
		{field: fieldDate, names: []string{"TRANSACTION DATE"}},
		{field: fieldTagPlate, names: []string{"TAG/PLATE NUMBER"}},
		{field: fieldAgency, names: []string{"AGENCY"}},
		{field: fieldActivity, names: []string{"ACTIVITY", "DESCRIPTION"}},
		{field: fieldPlazaID, names: []string{"PLAZA ID"}, optional: true},
		{field: fieldEntryTime, names: []string{"ENTRY TIME"}},
		{field: fieldEntryPlaza, names: []string{"ENTRY PLAZA"}},
		{field: fieldEntryLane, names: []string{"ENTRY LANE"}},
		{field: fieldExitTime, names: []string{"EXIT TIME"}},
		{field: fieldExitPlaza, names: []string{"EXIT PLAZA"}},
		{field: fieldExitLane, names: []string{"EXIT LANE"}},
		{field: fieldClass, names: []string{"VEHICLE TYPE CODE"}},
		{field: fieldAmount, names: []string{"AMOUNT"}},
		{field: fieldPrepaid, names: []string{"PREPAID"}},
		{field: fieldPlanRate, names: []string{"PLAN/RATE"}},
		{field: fieldFareType, names: []string{"FARE TYPE"}},
		{field: fieldBalance, names: []string{"BALANCE"}},
	}},
}

// columnMap gives the cell index of each field, or -1 when the file lacks it.
type columnMap [numFields]int

// FormatError reports a header row that fits no known format.
type FormatError struct {
	Closest   Format   // the format the header came closest to; empty for an empty file
	Missing   []string // columns of Closest that the header lacks
	Duplicate []string // columns of Closest that the header holds more than once
	Found     []string // the column names the header holds, as written

	matched int // required columns of Closest found once or more
}

// Error explains the problem and what to do, for a finance user.
func (e *FormatError) Error() string {
	const hint = "Export the transaction report from the E-ZPass account and try again."
	if len(e.Found) == 0 {
		return "This file is empty: it has no header row. " + hint
	}
	var b strings.Builder
	b.WriteString("This file is not a known E-ZPass export: ")
	if len(e.Missing) > 0 {
		b.WriteString(plural(len(e.Missing), "missing column ", "missing columns "))
		b.WriteString(strings.Join(e.Missing, ", "))
	}
	if len(e.Duplicate) > 0 {
		if len(e.Missing) > 0 {
			b.WriteString("; ")
		}
		b.WriteString(plural(len(e.Duplicate), "column ", "columns "))
		b.WriteString(strings.Join(e.Duplicate, ", "))
		b.WriteString(plural(len(e.Duplicate), " appears", " appear"))
		b.WriteString(" more than once")
	}
	b.WriteString(" (found: ")
	const maxListed = 25
	for i, name := range e.Found {
		if i == maxListed {
			fmt.Fprintf(&b, ", and %d more", len(e.Found)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clip(name, 40))
	}
	b.WriteString("). ")
	b.WriteString(hint)
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// DetectFormat tells which known export layout a header row belongs to; the
// error is a *FormatError.
func DetectFormat(header []string) (Format, error) {
	f, _, ferr := detect(header)
	if ferr != nil {
		return "", ferr
	}
	return f, nil
}

// detect matches a header row against every layout. When several fit, the
// one with the most columns wins (a header holding every column of B and of A
// is B). When none fits, the error describes the closest: most required
// columns found, then fewest missing, then the earlier format.
func detect(header []string) (Format, columnMap, *FormatError) {
	index := make(map[string][]int, len(header))
	var found []string
	for i, h := range header {
		key := headerKey(h)
		if key == "" {
			continue
		}
		index[key] = append(index[key], i)
		found = append(found, strings.TrimFunc(cleanText(h), isSpace))
	}

	var (
		fit        *layout
		fitMap     columnMap
		fitMatched int
		closest    *FormatError
	)
	for i := range layouts {
		l := &layouts[i]
		cm, matched, missing, dups := l.match(index)
		if len(missing) == 0 && len(dups) == 0 {
			if fit == nil || matched > fitMatched {
				fit, fitMap, fitMatched = l, cm, matched
			}
			continue
		}
		if closest == nil || matched > closest.matched ||
			(matched == closest.matched && len(missing) < len(closest.Missing)) {
			closest = &FormatError{Closest: l.format, Missing: missing, Duplicate: dups, matched: matched}
		}
	}
	if fit != nil {
		return fit.format, fitMap, nil
	}
	if len(found) == 0 {
		return "", columnMap{}, &FormatError{}
	}
	closest.Found = found
	return "", columnMap{}, closest
}

// match finds the layout's columns in a header index (normalised name →
// cell positions).
func (l *layout) match(index map[string][]int) (cm columnMap, matched int, missing, dups []string) {
	for i := range cm {
		cm[i] = -1
	}
	for _, c := range l.columns {
		found := false
		for _, name := range c.names {
			pos := index[headerKey(name)]
			if len(pos) == 0 {
				continue
			}
			if len(pos) > 1 {
				dups = append(dups, name)
			}
			cm[c.field] = pos[0]
			found = true
			break
		}
		switch {
		case c.optional:
		case found:
			matched++
		default:
			missing = append(missing, c.label())
		}
	}
	return cm, matched, missing, dups
}

// headerKey normalises a header name for comparison: byte-order marks and
// surrounding spaces dropped, inner runs of spaces collapsed to one, case
// folded. Names are then compared whole.
func headerKey(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(cleanText(s), isSpace), " "))
}

// isSpace reports white space, counting the byte-order mark as space.
func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }
