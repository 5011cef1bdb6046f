package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"recondesk/internal/auth"
)

func TestAssignFromTransactionReturnsToIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	matchFixture(t, b)
	first := addToll(t, b, "9999", nyAt(3, 1, 8, 0), 911)
	second := addToll(t, b, "9999", nyAt(3, 2, 8, 0), 250)
	runAssociation(t, b)
	finance := b.login(t, auth.Finance)
	lb, bob := leaseIDOf(t, b, "LB"), driverIDOf(t, b, "5000002")
	txnPath := fmt.Sprintf("/ezpass/transactions/%d", first)

	// The transaction's Assign link carries the way back.
	_, body := b.get(t, finance, txnPath)
	links := byTestID(t, body, "assign-link")
	if len(links) != 1 {
		t.Fatal("no assign link on the transaction page")
	}
	href := attr(links[0], "href")
	u, _ := url.Parse(href)
	if u.Path != "/ezpass/assign" || u.Query().Get("return") != txnPath {
		t.Fatalf("assign link %q; want return=%s", href, txnPath)
	}
	// The form keeps it (through the lease search too) and links back.
	_, body = b.get(t, finance, href+"&q=1HGCM82633A000001")
	if r := byTestID(t, body, "assign-return"); len(r) != 1 || attr(r[0], "value") != txnPath {
		t.Fatalf("assign form does not keep the return path")
	}
	if back := byTestID(t, body, "assign-back"); len(back) != 1 || attr(back[0], "href") != txnPath {
		t.Errorf("assign page back link does not lead to the transaction")
	}
	// A refused submission re-renders with it.
	resp := b.post(t, finance, "/ezpass/assign", url.Values{"ids": {itoa(first)}, "choice": {fmt.Sprintf("%d:%d", lb, bob)}, "return": {txnPath}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no reason: %d", resp.StatusCode)
	}
	// Assigning lands back on the transaction.
	resp = b.post(t, finance, "/ezpass/assign", url.Values{"ids": {itoa(first)}, "choice": {fmt.Sprintf("%d:%d", lb, bob)},
		"reason": {"tag not on file yet"}, "return": {txnPath}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != txnPath {
		t.Fatalf("assign: %d %s; want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), txnPath)
	}
	if s, m, d := txnStatus(t, b, first); s != "associated" || m != "manual" || d != bob {
		t.Fatalf("after assign: %s %s %d", s, m, d)
	}
	// Anything but a local path goes to the failures queue.
	for _, bad := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		resp = b.post(t, finance, "/ezpass/assign", url.Values{"ids": {itoa(second)}, "choice": {fmt.Sprintf("%d:%d", lb, bob)},
			"reason": {"same"}, "return": {bad}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/ezpass/failures" {
			t.Errorf("return=%q: %d %s; want 303 to /ezpass/failures", bad, resp.StatusCode, loc)
		}
		_, body = b.get(t, finance, "/ezpass/assign?ids="+itoa(second)+"&return="+url.QueryEscape(bad))
		if strings.Contains(body, "evil.example") || len(byTestID(t, body, "assign-return")) != 0 {
			t.Errorf("return=%q is kept by the form", bad)
		}
	}
}
