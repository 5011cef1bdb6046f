package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"recondesk/internal/ezpass"
	"recondesk/internal/store"
)

// referenceRowHash is RowHash as first written (before its fast paths).
func referenceRowHash(r ezpass.Row, key string) string {
	fold := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }
	h := sha256.New()
	for _, part := range []string{
		"ezpass-row-v1", key, r.TxnAt.UTC().Format(time.RFC3339), r.Tag, r.PlateState, r.Plate,
		fold(r.Agency), fold(r.EntryPlaza), fold(r.ExitPlaza), fold(r.Plaza), fold(r.Class),
		strconv.FormatInt(r.AmountCents, 10), string(r.Kind),
	} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestRowHashUnchanged: the faster RowHash hashes exactly as before (stored
// row hashes decide duplicates and conflicts against earlier imports).
func TestRowHashUnchanged(t *testing.T) {
	t.Parallel()
	names := []string{"", "MTAB&T", "mtab&t", " MTAB&T", "MTAB&T ", "VERRAZANO  NARROWS", "VERRAZANO\tNARROWS", "Ÿonkers", "A B", "A\u00a0B", " ", "1"}
	at := time.Date(2026, 3, 8, 2, 30, 0, 0, time.FixedZone("x", -5*3600))
	for i, n := range names {
		r := ezpass.Row{TxnAt: at, Tag: "00812345678", PlateState: "NY", Plate: "T123456C", Agency: n, EntryPlaza: names[(i+1)%len(names)],
			ExitPlaza: names[(i+2)%len(names)], Plaza: n, Class: n, AmountCents: int64(-i * 101), Kind: ezpass.KindToll}
		if got, want := store.RowHash(r, "k"+n), referenceRowHash(r, "k"+n); got != want {
			t.Errorf("RowHash with name %q = %s; want %s", n, got, want)
		}
	}
}
