package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"

	"recondesk/internal/auth"
)

// TestCraftedQueryStringsAre400 sends what an attacker would: each gets a
// 400 with a message, never a 500.
func TestCraftedQueryStringsAre400(t *testing.T) {
	t.Parallel()
	b := setup(t)
	viewer := b.login(t, auth.Viewer)
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"txn_at","d":false,"v":"not a time","i":1}`))
	forgedNum := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"amount","d":false,"v":"1e999","i":1}`))
	for _, path := range []string{
		"/fleet/medallions?page=9223372036854775807",
		"/fleet/medallions?q=" + url.QueryEscape("a\x00b"),
		"/ledger?page=9223372036854775807",
		"/ezpass/failures?after=99999999999999999999",
		"/ezpass/failures?code=" + url.QueryEscape("X\x00"),
		"/ezpass/transactions?cursor=" + forged,
		"/ezpass/transactions?cursor=" + forgedNum,
		"/ezpass/transactions?cursor=%7B%7D",
		"/ezpass/transactions?agency=" + url.QueryEscape("NY\x00"),
		"/ezpass/transactions?from=99999-01-01",
		"/ezpass/transactions?import=abc",
	} {
		resp, body := b.get(t, viewer, path)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s = %d; want 400 (%.200s)", path, resp.StatusCode, body)
		}
	}
}
