package ezpass

import (
	"fmt"
	"strings"
	"unicode"
)

// Kind says what a row is; only tolls and credits are matched to drivers and posted.
type Kind string

// The row kinds (DESIGN §5.2).
const (
	// KindToll is a toll the driver owes (stored amount ≥ 0).
	KindToll Kind = "toll"
	// KindCredit is a refund or adjustment in the driver's favour (stored amount < 0).
	KindCredit Kind = "credit"
	// KindPayment is a payment into the E-ZPass account.
	KindPayment Kind = "payment"
	// KindTagFee is the agency's monthly tag leasing fee.
	KindTagFee Kind = "tag_fee"
	// KindExcluded is a row an ExclusionRule keeps out of matching and posting.
	KindExcluded Kind = "excluded"
)

// ExclusionRule excludes the rows of an agency, of a plaza, or of a plaza of
// an agency; an empty field matches anything but a rule needs at least one.
// Names are compared whole, ignoring case and runs of spaces; Plaza is
// compared with the entry plaza, the exit plaza and the plaza id.
type ExclusionRule struct {
	Agency string // agency name as in the export, e.g. "CBDTP"; empty = any agency
	Plaza  string // plaza name or id as in the export; empty = any plaza
	Reason string // shown to staff next to the excluded row
}

// DefaultExclusions returns the rules used when Options.Exclusions is nil:
// congestion-pricing charges (MTA Central Business District Tolling Program),
// agency or plaza CBDTP.
func DefaultExclusions() []ExclusionRule {
	const reason = "Congestion pricing charge (MTA Central Business District Tolling Program)"
	return []ExclusionRule{
		{Agency: "CBDTP", Reason: reason},
		{Plaza: "CBDTP", Reason: reason},
	}
}

// exclusion is an ExclusionRule prepared for matching.
type exclusion struct {
	agency, plaza, reason string
}

func prepareExclusions(rules []ExclusionRule) ([]exclusion, error) {
	if rules == nil {
		rules = DefaultExclusions()
	}
	out := make([]exclusion, 0, len(rules))
	for i, r := range rules {
		e := exclusion{agency: nameKey(r.Agency), plaza: nameKey(r.Plaza), reason: strings.TrimSpace(r.Reason)}
		if e.agency == "" && e.plaza == "" {
			return nil, fmt.Errorf("ezpass: exclusion rule %d names neither an agency nor a plaza", i+1)
		}
		if e.reason == "" {
			e.reason = defaultReason(r)
		}
		out = append(out, e)
	}
	return out, nil
}

func defaultReason(r ExclusionRule) string {
	switch {
	case r.Agency != "" && r.Plaza != "":
		return fmt.Sprintf("Excluded: agency %s, plaza %s", strings.TrimSpace(r.Agency), strings.TrimSpace(r.Plaza))
	case r.Agency != "":
		return "Excluded: agency " + strings.TrimSpace(r.Agency)
	default:
		return "Excluded: plaza " + strings.TrimSpace(r.Plaza)
	}
}

func (e exclusion) matches(row *Row) bool {
	if e.agency != "" && nameKey(row.Agency) != e.agency {
		return false
	}
	if e.plaza == "" {
		return true
	}
	for _, p := range []string{row.EntryPlaza, row.ExitPlaza, row.Plaza} {
		if nameKey(p) == e.plaza {
			return true
		}
	}
	return false
}

// nameKey normalises an agency or plaza name for comparison.
func nameKey(s string) string {
	return strings.ToUpper(strings.Join(strings.FieldsFunc(s, isSpace), " "))
}

var (
	tagFeeWords  = []string{"TAG", "LEASING", "FEE"}
	paymentWords = []string{"PAYMENT"}
)

// classify sets Kind and ExcludedReason from the row's markers, the rules
// and the stored sign of the amount (see the package documentation).
func classify(row *Row, rules []exclusion) {
	markers := [][]string{words(row.Class), words(row.ExitPlaza), words(row.Activity)}
	for _, k := range []struct {
		seq  []string
		kind Kind
	}{{tagFeeWords, KindTagFee}, {paymentWords, KindPayment}} {
		for _, w := range markers {
			if containsWords(w, k.seq) {
				row.Kind = k.kind
				return
			}
		}
	}
	for _, e := range rules {
		if e.matches(row) {
			row.Kind, row.ExcludedReason = KindExcluded, e.reason
			return
		}
	}
	if row.AmountCents < 0 {
		row.Kind = KindCredit
	} else {
		row.Kind = KindToll
	}
}

// words splits text into upper-case runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// containsWords reports whether seq occurs in ws as consecutive whole words.
func containsWords(ws, seq []string) bool {
	for i := 0; i+len(seq) <= len(ws); i++ {
		match := true
		for j, s := range seq {
			if ws[i+j] != s {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
