package ezpass

import (
	"fmt"
	"strings"
)

// ParseAmount parses a dollar amount as written in an export ("$9.11",
// "($9.11)", "-$1,234.50", "$-9.11") into cents, keeping the sign as written:
// a minus sign or parentheses make it negative.
func ParseAmount(s string) (int64, error) {
	if strings.TrimFunc(s, isSpace) == "" {
		return 0, fmt.Errorf("the amount is empty")
	}
	cents, ok := parseAmount(s)
	if !ok {
		return 0, fmt.Errorf("'%s' is not a dollar amount like $9.11", clip(cleanText(s), 60))
	}
	return cents, nil
}

// parseAmount accepts, around optional spaces: an optional pair of
// parentheses; then at most one sign and one dollar sign in either order;
// then digits with optional thousands commas and at most two decimals.
func parseAmount(s string) (int64, bool) {
	t := strings.Map(func(r rune) rune {
		switch r {
		case '\u00a0', '\t':
			return ' '
		case '\u2212': // minus sign
			return '-'
		}
		return r
	}, s)
	t = strings.TrimSpace(t)
	paren := len(t) >= 2 && t[0] == '(' && t[len(t)-1] == ')'
	if paren {
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	neg, signs, dollar := false, 0, false
	i := 0
prefix:
	for ; i < len(t); i++ {
		switch t[i] {
		case ' ':
		case '-':
			neg = true
			signs++
		case '+':
			signs++
		case '$':
			if dollar {
				return 0, false
			}
			dollar = true
		default:
			break prefix
		}
	}
	if signs > 1 || (paren && signs > 0) {
		return 0, false
	}
	cents, ok := parseUnsignedCents(t[i:])
	if !ok {
		return 0, false
	}
	if neg || paren {
		cents = -cents
	}
	return cents, true
}

// maxDollarDigits bounds the integer part so that cents fit an int64 with room to spare.
const maxDollarDigits = 15

// parseUnsignedCents parses "1,234.5" style text into cents.
func parseUnsignedCents(s string) (int64, bool) {
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, false
	}
	if len(frac) > 2 || !allDigits(frac) {
		return 0, false
	}
	if strings.Contains(intPart, ",") {
		groups := strings.Split(intPart, ",")
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return 0, false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, false
			}
		}
		intPart = strings.Join(groups, "")
	}
	if !allDigits(intPart) {
		return 0, false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > maxDollarDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(intPart); i++ {
		n = n*10 + int64(intPart[i]-'0')
	}
	n *= 100
	if len(frac) >= 1 {
		n += int64(frac[0]-'0') * 10
	}
	if len(frac) == 2 {
		n += int64(frac[1] - '0')
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// decimalNumber is a number as spreadsheets store it, in plain or scientific
// notation: value = ±digits × 10^exp, digits without leading zeros.
type decimalNumber struct {
	neg    bool
	digits string
	exp    int
}

// parseDecimalNumber accepts [+-]digits[.digits][e[+-]digits], the way
// numeric cells appear in a workbook's XML. It rejects NaN, Inf and hex.
func parseDecimalNumber(s string) (decimalNumber, bool) {
	var d decimalNumber
	if len(s) == 0 || len(s) > 64 {
		return d, false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		d.neg = s[0] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := s[start:i]
	var fracDigits string
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracDigits = s[start:i]
	}
	if intDigits == "" && fracDigits == "" {
		return d, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || i-start > 3 {
			return d, false
		}
		for _, c := range s[start:i] {
			exp = exp*10 + int(c-'0')
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return d, false
	}
	d.digits = strings.TrimLeft(intDigits+fracDigits, "0")
	d.exp = exp - len(fracDigits)
	if d.digits == "" {
		d.neg, d.exp = false, 0
	}
	return d, true
}

// cents converts a spreadsheet number of dollars to cents. Spreadsheets store
// binary floating point, so 9.11 may be written 9.1099999999999994: anything
// within a hundredth of a cent of a whole cent rounds to it; anything else
// (9.115) is not an amount of money.
func (d decimalNumber) cents() (int64, bool) {
	if d.digits == "" {
		return 0, true
	}
	const maxCentDigits = maxDollarDigits + 2
	shift := d.exp + 2 // value in cents = digits × 10^shift
	var whole, rest string
	if shift >= 0 {
		if len(d.digits)+shift > maxCentDigits {
			return 0, false
		}
		whole = d.digits + strings.Repeat("0", shift)
	} else {
		k := -shift
		if k >= len(d.digits) {
			zeros := min(k-len(d.digits), 4)
			rest = strings.Repeat("0", zeros) + d.digits
		} else {
			whole, rest = d.digits[:len(d.digits)-k], d.digits[len(d.digits)-k:]
		}
		if len(whole) > maxCentDigits {
			return 0, false
		}
	}
	var n int64
	for i := 0; i < len(whole); i++ {
		n = n*10 + int64(whole[i]-'0')
	}
	if rest != "" {
		switch (rest + "0000")[:4] {
		case "0000":
		case "9999":
			n++
		default:
			return 0, false
		}
	}
	if d.neg {
		n = -n
	}
	return n, true
}

// integer writes the number as plain integer digits ("1.23E+5" → "123000"),
// for ids that a spreadsheet stored as numbers. ok is false when the number
// has a fractional part or is implausibly long.
func (d decimalNumber) integer() (string, bool) {
	if d.digits == "" {
		return "0", true
	}
	var s string
	switch {
	case d.exp >= 0:
		if len(d.digits)+d.exp > 30 {
			return "", false
		}
		s = d.digits + strings.Repeat("0", d.exp)
	default:
		k := -d.exp
		if k >= len(d.digits) || strings.Trim(d.digits[len(d.digits)-k:], "0") != "" {
			return "", false
		}
		s = d.digits[:len(d.digits)-k]
	}
	if d.neg {
		s = "-" + s
	}
	return s, true
}
