package query

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                               "/",
		"/":                              "/",
		"/admin/audit":                   "/admin/audit",
		"/ezpass/transactions?status=x":  "/ezpass/transactions?status=x",
		"/fleet/medallions?page=2#top":   "/fleet/medallions?page=2#top",
		"/%09/evil.example":              "/",
		"/\t/evil.example":               "/",
		"//evil.example":                 "/",
		"/\\evil.example":                "/",
		"/%5Cevil.example":               "/",
		"/%2F/evil.example":              "/",
		"/%2f%2fevil.example":            "/",
		"https://evil.example/":          "/",
		"javascript:alert(1)":            "/",
		"evil.example":                   "/",
		"/\r\nLocation: //evil.example":  "/",
		"/%0d%0aSet-Cookie:x=1":          "/",
		"/ok\x00":                        "/",
		"/%zz":                           "/",
		"/a" + strings.Repeat("b", 3000): "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q; want %q", in, got, want)
		}
	}
}

// FuzzSafeNext: whatever comes in, the result is a path on this site that
// a browser resolves against this site's origin.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/admin", "/%09/evil.example", "//x", "/\\x", "https://x", "/a?b=c#d", "/%2F%2Fx"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://recondesk.example/login")
	f.Fuzz(func(t *testing.T, in string) {
		got := SafeNext(in)
		if got != "/" && got != in {
			t.Fatalf("SafeNext(%q) = %q: rewritten instead of kept or sent home", in, got)
		}
		// Resolve as a browser would, after removing tab/newline as the URL spec does.
		cleaned := strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(got)
		u, err := base.Parse(cleaned)
		if err != nil {
			t.Fatalf("SafeNext(%q) = %q does not parse: %v", in, got, err)
		}
		if u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("SafeNext(%q) = %q leads to %s", in, got, u)
		}
		if strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\x00\t\r\n") {
			t.Fatalf("SafeNext(%q) = %q", in, got)
		}
	})
}

func TestCraftedInputIsRefused(t *testing.T) {
	t.Parallel()
	if _, err := Page("9223372036854775807"); err == nil {
		t.Error("huge page accepted")
	}
	if _, err := Page("-1"); err == nil {
		t.Error("negative page accepted")
	}
	if n, err := Page(""); n != 1 || err != nil {
		t.Errorf("empty page = %d %v", n, err)
	}
	if _, err := After("99999999999999999999"); err == nil {
		t.Error("out-of-range after accepted")
	}
	if _, err := Text("agency", "E-Z\x00Pass"); err == nil {
		t.Error("NUL byte accepted")
	}
	if _, err := ID("abc", "12"); err == nil {
		t.Error("import abc accepted")
	}
	if _, err := Date("99999-01-01", time.UTC, false); err == nil {
		t.Error("year 99999 accepted")
	}
	if _, err := Cursor("eyJz{}"); err == nil {
		t.Error("non-base64 cursor accepted")
	}
}

// Every parser is total: no panic, and a value is either valid or refused.
func FuzzPage(f *testing.F) {
	for _, s := range []string{"", "1", "0", "-3", "9223372036854775807", "1e9", " 2 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Page(s)
		if err == nil && (n < 1 || n > MaxPage) {
			t.Fatalf("Page(%q) = %d", s, n)
		}
	})
}

func FuzzAfter(f *testing.F) {
	for _, s := range []string{"", "0", "12", "-1", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := After(s)
		if err == nil && (n < 0 || n > 1<<53) {
			t.Fatalf("After(%q) = %d", s, n)
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "NYSTA", "a\x00b", "\xff", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Text("x", s)
		if err == nil && (strings.ContainsRune(v, 0) || !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxText) {
			t.Fatalf("Text(%q) = %q", s, v)
		}
	})
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"", "2026-01-31", "2026-02-30", "2026-01-31T10:00:00Z", "0000-01-01", "99999-01-01"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, next bool) {
		d, err := Date(s, time.UTC, next)
		if err == nil && !d.IsZero() && (d.Year() < 1900 || d.Year() > 10000) {
			t.Fatalf("Date(%q) = %v", s, d)
		}
	})
}

func FuzzIDLimitCursor(f *testing.F) {
	for _, s := range []string{"", "#12", "abc", "0", "501", "eyJzIjoidHhuX2F0In0", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ID(s, "12"); err == nil && n < 0 {
			t.Fatalf("ID(%q) = %d", s, n)
		}
		if n, err := Limit(s, 500); err == nil && (n < 0 || n > 500) {
			t.Fatalf("Limit(%q) = %d", s, n)
		}
		if c, err := Cursor(s); err == nil && (len(c) > 1024 || strings.ContainsAny(c, "\x00 /+=")) {
			t.Fatalf("Cursor(%q) = %q", s, c)
		}
	})
}
