// Package query parses the query strings of Recondesk's list pages. Every
// function is pure and total: any input gives a value or an error with a
// message to show (an apperror.Invalid, 400), never a panic or a value the
// database would refuse. Each has a fuzz target (make fuzz).
package query

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"recondesk/internal/apperror"
)

// MaxPage bounds page numbers so that OFFSET stays meaningful (and in range).
const MaxPage = 100000

// MaxText bounds free-text filters.
const MaxText = 200

// Page reads a 1-based page number; empty is page 1.
func Page(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPage {
		return 0, apperror.New(apperror.Invalid, "The page number must be a whole number from 1 to %d.", MaxPage)
	}
	return n, nil
}

// After reads a keyset position (a row id or line number); empty is 0.
func After(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<53 {
		return 0, apperror.New(apperror.Invalid, "'after' must be a row number like 120.")
	}
	return n, nil
}

// Text reads a free-text filter: valid UTF-8, no control characters (a NUL
// byte is refused by PostgreSQL), at most MaxText characters.
func Text(name, s string) (string, error) {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxText {
		return "", apperror.New(apperror.Invalid, "The %s filter must be text of at most %d characters.", name, MaxText)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "", apperror.New(apperror.Invalid, "The %s filter contains a control character; type it again.", name)
		}
	}
	return strings.TrimSpace(s), nil
}

// Date reads a day (YYYY-MM-DD in tz; with next, the start of the day
// after, for inclusive ends) or an RFC 3339 instant; empty is the zero time.
func Date(s string, tz *time.Location, next bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	bad := apperror.New(apperror.Invalid, "Enter a date like 2026-01-31.")
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02", s, tz); err != nil {
			return time.Time{}, bad
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		return time.Time{}, bad
	}
	return t, nil
}

// ID reads a positive id such as an import number ("12" or "#12"); empty is 0.
func ID(s, example string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<53 {
		return 0, apperror.New(apperror.Invalid, "Enter a number like %s.", example)
	}
	return n, nil
}

// Limit reads a page size from 1 to most; empty is 0 (the default).
func Limit(s string, most int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, apperror.New(apperror.Invalid, "The limit is a number from 1 to %d.", most)
	}
	return n, nil
}

// Cursor reads an opaque keyset cursor: base64url text of sane length.
// (What it encodes is checked by its owner, store.EZPassTxnFilter.Validate.)
func Cursor(s string) (string, error) {
	if len(s) > 1024 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return "", apperror.New(apperror.Invalid, "This page link is broken; start again from the first page.")
	}
	return s, nil
}

// SafeNext keeps only paths on this site as redirect targets: no scheme,
// no host, no control characters or backslashes, and no leading "//"
// after decoding (browsers read "/\host", "/%09/host" and "//host" as
// another host). Anything else goes home.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return "/"
	}
	decoded, err := url.PathUnescape(next)
	if err != nil {
		return "/"
	}
	for _, s := range []string{next, decoded} {
		for _, c := range s {
			if c < 0x20 || c == 0x7f || c == '\\' || c == utf8.RuneError {
				return "/"
			}
		}
		if strings.HasPrefix(s, "//") {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}
