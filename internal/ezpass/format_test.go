package ezpass

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	t.Parallel()
	split := func(s string) []string { return strings.Split(s, ",") }
	tests := []struct {
		name          string
		header        []string
		want          Format
		wantClosest   Format
		wantMissing   []string
		wantDuplicate []string
	}{
		{name: "A", header: split(headerA), want: FormatA},
		{name: "B", header: split(headerB), want: FormatB},
		{name: "C", header: split(headerC), want: FormatC},
		{
			name:   "A reordered with unknown columns",
			header: []string{"Amount", "Notes", "Exit Time", "Date", "Class", "Exit Plaza", "Entry Plaza", "Agency", "Tag/Plate #", "Lane Txn ID", ""},
			want:   FormatA,
		},
		{
			name:   "C with DESCRIPTION for ACTIVITY",
			header: split(strings.Replace(headerC, "ACTIVITY", "DESCRIPTION", 1)),
			want:   FormatC,
		},
		{
			name:   "C without PLAZA ID",
			header: split(strings.Replace(headerC, "PLAZA ID,", "", 1)),
			want:   FormatC,
		},
		{
			name:   "case, spaces and BOM folded",
			header: []string{"\ufeffLANE TXN ID", " tag/plate # ", "agency", "Entry  Plaza", "EXIT\u00a0PLAZA", "class", "DATE", "exit time", "amount"},
			want:   FormatA,
		},
		{
			name:   "every column of A and B is B",
			header: append(split(headerB), "Exit Time"),
			want:   FormatB,
		},
		{
			name:        "near miss Lane Txn",
			header:      split(strings.Replace(headerA, "Lane Txn ID", "Lane Txn", 1)),
			wantClosest: FormatA,
			wantMissing: []string{"Lane Txn ID"},
		},
		{
			name:        "longer name is not a match",
			header:      split(strings.Replace(headerA, "Amount", "Amount Due", 1)),
			wantClosest: FormatA,
			wantMissing: []string{"Amount"},
		},
		{
			name:        "B without posting date",
			header:      split(strings.Replace(headerB, "Posted Date,", "", 1)),
			wantClosest: FormatB,
			wantMissing: []string{"Posted Date"},
		},
		{
			name:        "C without ACTIVITY or DESCRIPTION",
			header:      split(strings.Replace(headerC, "ACTIVITY,", "", 1)),
			wantClosest: FormatC,
			wantMissing: []string{"ACTIVITY or DESCRIPTION"},
		},
		{
			name:          "duplicate column",
			header:        append(split(headerA), "AMOUNT"),
			wantClosest:   FormatA,
			wantDuplicate: []string{"Amount"},
		},
		{
			name:        "unrelated file",
			header:      []string{"Name", "Email"},
			wantClosest: FormatA,
			wantMissing: []string{"Lane Txn ID", "Tag/Plate #", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date", "Exit Time", "Amount"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DetectFormat(tt.header)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("DetectFormat = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("DetectFormat = %q, %v; want a *FormatError", got, err)
			}
			if fe.Closest != tt.wantClosest || !slices.Equal(fe.Missing, tt.wantMissing) || !slices.Equal(fe.Duplicate, tt.wantDuplicate) {
				t.Errorf("FormatError{Closest: %q, Missing: %q, Duplicate: %q}; want %q, %q, %q",
					fe.Closest, fe.Missing, fe.Duplicate, tt.wantClosest, tt.wantMissing, tt.wantDuplicate)
			}
			if len(fe.Found) == 0 {
				t.Errorf("FormatError.Found is empty")
			}
		})
	}
}

func TestFormatErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header []string
		want   string
	}{
		{
			name:   "missing column",
			header: strings.Split(strings.Replace(headerA, "Lane Txn ID", "Lane Txn", 1), ","),
			want: "This file is not a known E-ZPass export: missing column Lane Txn ID " +
				"(found: Lane Txn, Tag/Plate #, Agency, Entry Plaza, Exit Plaza, Class, Date, Exit Time, Amount). " +
				"Export the transaction report from the E-ZPass account and try again.",
		},
		{
			name:   "missing columns",
			header: []string{"\ufeffLane Txn ID", "Tag/Plate #", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date"},
			want: "This file is not a known E-ZPass export: missing columns Exit Time, Amount " +
				"(found: Lane Txn ID, Tag/Plate #, Agency, Entry Plaza, Exit Plaza, Class, Date). " +
				"Export the transaction report from the E-ZPass account and try again.",
		},
		{
			name:   "duplicate",
			header: []string{"Lane Txn ID", "Tag/Plate #", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date", "Exit Time", "Amount", "Amount"},
			want: "This file is not a known E-ZPass export: column Amount appears more than once " +
				"(found: Lane Txn ID, Tag/Plate #, Agency, Entry Plaza, Exit Plaza, Class, Date, Exit Time, Amount, Amount). " +
				"Export the transaction report from the E-ZPass account and try again.",
		},
		{
			name:   "empty",
			header: []string{"", " "},
			want:   "This file is empty: it has no header row. Export the transaction report from the E-ZPass account and try again.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DetectFormat(tt.header)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
}

func TestFormatErrorListsAtMost25Columns(t *testing.T) {
	t.Parallel()
	header := make([]string, 30)
	for i := range header {
		header[i] = "Col" + strings.Repeat("x", i)
	}
	_, err := DetectFormat(header)
	if err == nil || !strings.Contains(err.Error(), ", and 5 more). ") {
		t.Errorf("error = %v; want the list cut after 25 names", err)
	}
}

// TestRawValuesJSONAsEncodingJSON: the fast JSON writer of Raw writes what
// encoding/json writes, escapes included.
func TestRawValuesJSONAsEncodingJSON(t *testing.T) {
	vals := []string{"", "plain 123", `a"b`, `back\slash`, "<tag>&", "tab\there", "nl\n", "é", "\u2028", "\x7f", "\xff", "\x00"}
	var v RawValues
	var want []byte
	want = append(want, '{')
	for i, s := range vals {
		v = append(v, Field{Name: "N" + s, Value: s})
		if i > 0 {
			want = append(want, ',')
		}
		k, _ := json.Marshal("N" + s)
		val, _ := json.Marshal(s)
		want = append(append(append(want, k...), ':'), val...)
	}
	want = append(want, '}')
	got, err := v.MarshalJSON()
	if err != nil || string(got) != string(want) {
		t.Errorf("MarshalJSON = %s, %v; want %s", got, err, want)
	}
}
