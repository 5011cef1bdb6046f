package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"recondesk/internal/auth"
)

// nodesOf is every element named tag under n, in document order.
func nodesOf(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == tag {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

// TestFleetUploadReportsFormatAndReferenceErrorsInOnePass: a lease file
// with a malformed row and a row naming an unknown vehicle and medallion
// lists all of them at once, counts refused rows (not problems), and
// writes nothing, not even the good row.
func TestFleetUploadReportsFormatAndReferenceErrorsInOnePass(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.login(t, auth.Admin)
	upload(t, b, admin, "medallions", "m.csv", "number\n1A01\n", "load")
	upload(t, b, admin, "vehicles", "v.csv", "vin,medallion\n1HGCM82633A000001,1A01\n", "load")
	st, body := upload(t, b, admin, "leases", "l.csv", "ref,vin,medallion,valid_from,valid_to\n"+
		"L-1,1HGCM82633A000001,1A01,2025-01-01 00:00,2025-03-01 00:00\n"+ // good
		"L-2,1HGCM82633A00000I,1A01,yesterday,\n"+ // two format errors
		"L-3,1HGCM82633A000009,9Z99,2025-01-01 00:00,\n", // two reference errors
		"load")
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("status %d; want 422", st)
	}
	type problem struct{ line, column string }
	var got []problem
	table := byTestID(t, body, "fleet-errors")
	if len(table) != 1 {
		t.Fatalf("%d error tables", len(table))
	}
	for _, row := range nodesOf(table[0], "tr") {
		cells := nodesOf(row, "td")
		if len(cells) == 4 {
			got = append(got, problem{strings.TrimSpace(textOf(cells[0])), strings.TrimSpace(textOf(cells[1]))})
		}
	}
	want := map[problem]bool{{"3", "vin"}: true, {"3", "valid_from"}: true, {"4", "vin"}: true, {"4", "medallion"}: true}
	if len(got) != len(want) {
		t.Fatalf("problems %v; want %v", got, want)
	}
	for _, p := range got {
		if !want[p] {
			t.Errorf("unexpected problem %v", p)
		}
	}
	mustContain(t, body, "A VIN has 17 letters", "Write the start as", "VIN 1HGCM82633A000009 is not known", "Medallion 9Z99 is not known")
	if n := byTestID(t, body, "fleet-refused"); len(n) != 1 || !strings.HasPrefix(textOf(n[0]), "2 rows refused (4 problems); nothing was written") {
		t.Errorf("refused summary %q", textOf(n[0]))
	}
	var n int
	b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM leases`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d leases stored from a refused file", n)
	}
	// One bad row with one problem: "1 row refused".
	_, body = upload(t, b, admin, "leases", "l.csv", "ref,vin,medallion,valid_from\nL-1,1HGCM82633A000001,1A01,soon\n", "check")
	if n := byTestID(t, body, "fleet-refused"); len(n) != 1 || !strings.HasPrefix(textOf(n[0]), "1 row refused; nothing") {
		t.Errorf("refused summary %q", textOf(n[0]))
	}
}
