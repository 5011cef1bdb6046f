package web

import (
	"net/url"
	"strings"
	"testing"
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
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q; want %q", in, got, want)
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
		got := safeNext(in)
		if got != "/" && got != in {
			t.Fatalf("safeNext(%q) = %q: rewritten instead of kept or sent home", in, got)
		}
		// Resolve as a browser would, after removing tab/newline as the URL spec does.
		cleaned := strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(got)
		u, err := base.Parse(cleaned)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not parse: %v", in, got, err)
		}
		if u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("safeNext(%q) = %q leads to %s", in, got, u)
		}
		if strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\x00\t\r\n") {
			t.Fatalf("safeNext(%q) = %q", in, got)
		}
	})
}
