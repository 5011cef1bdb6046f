package ezpass

import "strings"

// NormalisePlate splits a plate as written in an export ("NY T123456C",
// "ny-T12 3456C") into its state and its number in upper case letters and
// digits only ("NY", "T123456C"). A leading two-letter US state, territory or
// Canadian province code followed by a space, "-", ":" or "/" is the state;
// without one the state is empty and the whole value is the number
// ("T12-3456C" → "", "T123456C").
func NormalisePlate(s string) (state, plate string) {
	t := strings.TrimFunc(s, isSpace)
	if len(t) > 3 && isPlateSeparator(t[2]) {
		code := strings.ToUpper(t[:2])
		if _, ok := plateRegions[code]; ok {
			if number := plateChars(t[3:]); number != "" {
				return code, number
			}
		}
	}
	return "", plateChars(t)
}

// NormaliseTag returns a transponder number as digits only ("008 1234 5678"
// → "00812345678", leading zeros kept); ok is false unless the value is
// digits, spaces and dashes with at least one digit.
func NormaliseTag(s string) (tag string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '\t':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// parseVehicle fills the tag or the plate of a row from its Tag/Plate value:
// digits only is a tag, anything else a plate.
func parseVehicle(s string) (tag, state, plate string) {
	if t, ok := NormaliseTag(strings.TrimFunc(s, isSpace)); ok {
		return t, "", ""
	}
	state, plate = NormalisePlate(s)
	return "", state, plate
}

func isPlateSeparator(c byte) bool { return c == ' ' || c == '-' || c == ':' || c == '/' }

// plateChars keeps ASCII letters (upper-cased) and digits.
func plateChars(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		case 'A' <= c && c <= 'Z', isDigit(c):
			b.WriteByte(c)
		}
	}
	return b.String()
}

// plateRegions are the jurisdictions whose plates E-ZPass reports: US states,
// DC, territories, Canadian provinces and territories, and US government.
var plateRegions = map[string]struct{}{
	"AL": {}, "AK": {}, "AZ": {}, "AR": {}, "CA": {}, "CO": {}, "CT": {}, "DE": {}, "FL": {}, "GA": {},
	"HI": {}, "ID": {}, "IL": {}, "IN": {}, "IA": {}, "KS": {}, "KY": {}, "LA": {}, "ME": {}, "MD": {},
	"MA": {}, "MI": {}, "MN": {}, "MS": {}, "MO": {}, "MT": {}, "NE": {}, "NV": {}, "NH": {}, "NJ": {},
	"NM": {}, "NY": {}, "NC": {}, "ND": {}, "OH": {}, "OK": {}, "OR": {}, "PA": {}, "RI": {}, "SC": {},
	"SD": {}, "TN": {}, "TX": {}, "UT": {}, "VT": {}, "VA": {}, "WA": {}, "WV": {}, "WI": {}, "WY": {},
	"DC": {}, "PR": {}, "VI": {}, "GU": {}, "AS": {}, "MP": {}, "US": {},
	"AB": {}, "BC": {}, "MB": {}, "NB": {}, "NL": {}, "NS": {}, "NT": {}, "NU": {}, "ON": {}, "PE": {},
	"QC": {}, "SK": {}, "YT": {},
}
