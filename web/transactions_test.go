package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/auth"
	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/masterfile"
	"recondesk/internal/store"
)

// txnFixture loads twelve rows over January 2026 and matches a few to a
// driver and medallion, as association would.
func txnFixture(t *testing.T, b *bundle) store.EZPassImport {
	t.Helper()
	ctx := context.Background()
	rows := []struct {
		lane, vehicle, agency string
		cents                 int64
	}{
		{"500001", "00812345678", "MTAB&T", 694},
		{"500002", "NY T123456C", "PANYNJ", 1606},
		{"500003", "00812345678", "MTAB&T", 694},
		{"500004", "NJ A1B2C3", "NJTP", 485},
		{"500005", "00812345678", "MTAB&T", -694}, // a credit
		{"500006", "NY T123456C", "PANYNJ", 1538},
		{"500007", "00812345678", "CBDTP", 900}, // excluded
		{"500008", "00812345678", "MTAB&T", 694},
		{"500009", "@SUM(1)", "=cmd|' /C calc'!A0", 331}, // formula bait
		{"500010", "NY T123456C", "PANYNJ", 1606},
		{"500011", "00812345678", "MTAB&T", 694},
		{"500012", "NJ A1B2C3", "NJTP", 485},
	}
	rs := make([]demo.EZPassRow, 0, len(rows))
	for i, r := range rows {
		row := txRow(r.lane, r.vehicle, r.agency, i+1, r.cents)
		if r.cents < 0 {
			row.Kind = ezpass.KindCredit
		}
		rs = append(rs, row)
	}
	imp := b.loadTxns(t, "fixture.csv", exportA(t, rs...))
	if imp.Inserted != 12 {
		t.Fatalf("fixture: %d inserted (%s)", imp.Inserted, imp.Message)
	}
	if _, err := b.db.Pool.Exec(ctx, `
		WITH m AS (INSERT INTO medallions (number) VALUES ('7X42') RETURNING id),
		d AS (INSERT INTO drivers (name, tlc_license) VALUES ('Grace Okafor', '5100777') RETURNING id)
		UPDATE ezpass_transactions SET status = 'associated', driver_id = (SELECT id FROM d), medallion_id = (SELECT id FROM m)
		WHERE dedupe_key IN ('500001', '500003', '500008')`); err != nil {
		t.Fatal(err)
	}
	return imp
}

var rowID = regexp.MustCompile(`data-testid="txn-row" data-id="(\d+)"`)

func pageIDs(body string) []string {
	var ids []string
	for _, m := range rowID.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func lanes(t *testing.T, b *bundle, ids []string) []string {
	t.Helper()
	var out []string
	for _, id := range ids {
		var lane string
		_ = b.db.Pool.QueryRow(context.Background(), `SELECT lane_txn_id FROM ezpass_transactions WHERE id = $1::bigint`, id).Scan(&lane)
		out = append(out, lane)
	}
	return out
}

func TestEZPassTransactionsFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	imp := txnFixture(t, b)
	c := b.login(t, auth.Viewer)
	cases := []struct {
		query string
		want  []string // lane ids in page order (newest first unless sorted)
	}{
		// Newest first by default (issue 9); desc=0 reads oldest first.
		{"", []string{"500012", "500011", "500010", "500009", "500008", "500007", "500006", "500005", "500004", "500003", "500002", "500001"}},
		{"desc=0", []string{"500001", "500002", "500003", "500004", "500005", "500006", "500007", "500008", "500009", "500010", "500011", "500012"}},
		{"from=2026-01-03&to=2026-01-05", []string{"500005", "500004", "500003"}},
		{"status=excluded", []string{"500007"}},
		{"status=associated", []string{"500008", "500003", "500001"}},
		{"kind=credit", []string{"500005"}},
		{"agency=panynj", []string{"500010", "500006", "500002"}},
		{"vehicle=NY+T123456C", []string{"500010", "500006", "500002"}},
		{"vehicle=t123456c", []string{"500010", "500006", "500002"}},
		{"vehicle=NJ-A1B2C3", []string{"500012", "500004"}},
		{"vehicle=008+1234+5678&agency=MTAB%26T", []string{"500011", "500008", "500005", "500003", "500001"}},
		{"driver=5100777", []string{"500008", "500003", "500001"}},
		{"driver=okafor", []string{"500008", "500003", "500001"}},
		{"medallion=7x42&from=2026-01-02", []string{"500008", "500003"}},
		{fmt.Sprintf("import=%d&agency=NJTP", imp.ID), []string{"500012", "500004"}},
		{"import=99999", nil},
		{"sort=amount&desc=1&agency=PANYNJ", []string{"500010", "500002", "500006"}},
		{"sort=amount&status=imported&agency=MTAB%26T", []string{"500005", "500011"}},
		{"sort=agency&from=2026-01-06&to=2026-01-08", []string{"500007", "500008", "500006"}},
	}
	for _, tc := range cases {
		resp, body := b.get(t, c, "/ezpass/transactions?"+tc.query)
		got := lanes(t, b, pageIDs(body))
		if resp.StatusCode != 200 || !slices.Equal(got, tc.want) {
			t.Errorf("?%s: %d %v; want %v", tc.query, resp.StatusCode, got, tc.want)
		}
	}
	// Status badges carry the reason on hover.
	_, body := b.get(t, c, "/ezpass/transactions?status=excluded")
	mustContain(t, body, `title="Congestion pricing charge`)
	// Bad filters are refused with field messages, not ignored.
	for _, q := range []string{"from=01/02/2026", "sort=amount+drop", "status=nope"} {
		resp, body := b.get(t, c, "/ezpass/transactions?"+q)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `data-testid="error-banner"`) {
			t.Errorf("?%s: %d; want 400 with a banner", q, resp.StatusCode)
		}
	}
}

func TestEZPassTransactionsKeysetPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	txnFixture(t, b)
	tok := b.token(t, auth.Viewer)
	// Ties on amount (five tolls of 694) are broken by id; pages never repeat or skip.
	var all []string
	next := ""
	for page := 0; page < 5; page++ {
		q := url.Values{"sort": {"amount"}, "desc": {"1"}, "limit": {"5"}}
		if next != "" {
			q = url.Values{"cursor": {next}, "limit": {"5"}}
		}
		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/api/ezpass/transactions?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Transactions []struct {
				LaneTxnID   string `json:"lane_txn_id"`
				AmountCents int64  `json:"amount_cents"`
			} `json:"transactions"`
			NextCursor string `json:"next_cursor"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		for _, x := range out.Transactions {
			all = append(all, fmt.Sprintf("%s:%d", x.LaneTxnID, x.AmountCents))
		}
		if next = out.NextCursor; next == "" {
			break
		}
	}
	// Descending: ties come newest (highest id) first.
	want := []string{"500010:1606", "500002:1606", "500006:1538", "500007:900", "500011:694", "500008:694", "500003:694",
		"500001:694", "500012:485", "500004:485", "500009:331", "500005:-694"}
	if !slices.Equal(all, want) {
		t.Errorf("pages:\n got %v\nwant %v", all, want)
	}

	// The page links to the next page with its cursor, keeping the filters.
	c := b.login(t, auth.Viewer)
	_, body := b.get(t, c, "/ezpass/transactions?agency=MTAB%26T&limit=2")
	m := regexp.MustCompile(`href="(/ezpass/transactions\?[^"]*cursor=[^"]*)" [^>]*data-testid="next-page"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no next-page link")
	}
	if got := lanes(t, b, pageIDs(body)); !slices.Equal(got, []string{"500011", "500008"}) {
		t.Errorf("page 1: %v", got)
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	_, body = b.get(t, c, link)
	if got := lanes(t, b, pageIDs(body)); !slices.Equal(got, []string{"500005", "500003"}) {
		t.Errorf("page 2 via %s: %v", link, got)
	}
	mustContain(t, body, `data-testid="first-page"`)
}

func TestEZPassTransactionsExport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	txnFixture(t, b)
	fin := b.login(t, auth.Finance)

	resp, text := b.get(t, fin, "/ezpass/transactions/export.csv?agency=MTAB%26T&sort=amount")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), ".csv") {
		t.Fatalf("CSV export: %d %s", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || !slices.Equal(recs[0], exportHeader) {
		t.Fatalf("CSV has %d records (header %v); want header + 5", len(recs), recs[0])
	}
	first := recs[1]
	if first[2] != "500005" || first[3] != "2026-01-05 08:00:00" || first[5] != "00812345678" || first[10] != "-6.94" || first[11] != "credit" {
		t.Errorf("first CSV row %v; want the credit of 2026-01-05 at -6.94", first)
	}
	_, text = b.get(t, fin, "/ezpass/transactions/export.csv?vehicle=SUM1")
	recs, _ = csv.NewReader(strings.NewReader(text)).ReadAll()
	if len(recs) != 2 || recs[1][5] != "'@SUM(1)" || recs[1][6] != "'=cmd|' /C calc'!A0" || recs[1][10] != "3.31" {
		t.Errorf("formula bait row %v; want text cells escaped with ' and the amount a plain number", recs)
	}

	resp, book := b.get(t, fin, "/ezpass/transactions/export.xlsx?status=associated")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("XLSX export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(book)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows("Transactions")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || !slices.Equal(got[0], exportHeader) {
		t.Fatalf("XLSX has %d rows (header %v); want header + 3", len(got), got[0])
	}
	if got[1][2] != "500001" || got[1][16] != "Grace Okafor" || got[1][17] != "5100777" || got[1][18] != "7X42" || got[1][12] != "associated" {
		t.Errorf("XLSX row 2: %v", got[1])
	}
	if typ, _ := f.GetCellType("Transactions", "K2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("amount cell type %v; want a number", typ)
	}
	if v, _ := f.GetCellValue("Transactions", "K2", excelize.Options{RawCellValue: true}); v != "6.94" {
		t.Errorf("amount cell %q; want 6.94", v)
	}
	// A real date cell (a number with a date format) reading what the CSV reads, the header
	// frozen, an autofilter over the header and the 3 rows, and a width on every column.
	if raw, _ := f.GetCellValue("Transactions", "D2", excelize.Options{RawCellValue: true}); !isFloat(raw) {
		t.Errorf("date cell holds %q; want a date number", raw)
	}
	styleID, _ := f.GetCellStyle("Transactions", "D2")
	if st, err := f.GetStyle(styleID); err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != masterfile.DateNumFmt {
		t.Errorf("date cell style = %+v (%v); want format %q", st, err, masterfile.DateNumFmt)
	}
	if v, _ := f.GetCellValue("Transactions", "D2"); v != got[1][3] || !strings.HasPrefix(v, "2026-") || len(v) != len("2026-01-05 10:00:00") {
		t.Errorf("date cell reads %q; want yyyy-mm-dd hh:mm:ss", v)
	}
	if panes, err := f.GetPanes("Transactions"); err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("panes = %+v (%v); want the header row frozen", panes, err)
	}
	filtered := false
	for _, dn := range f.GetDefinedName() {
		filtered = filtered || (dn.Name == "_xlnm._FilterDatabase" && strings.ReplaceAll(dn.RefersTo, "$", "") == "'Transactions'!A1:U4")
	}
	if !filtered {
		t.Errorf("defined names = %+v; want an autofilter over A1:U4", f.GetDefinedName())
	}
	for c := 1; c <= len(exportHeader); c++ {
		col, _ := excelize.ColumnNumberToName(c)
		if w, _ := f.GetColWidth("Transactions", col); w == 9.140625 || w < 6 {
			t.Errorf("column %s width %v; want a set width", col, w)
		}
	}

	_, book = b.get(t, fin, "/ezpass/transactions/export.xlsx?agency==cmd|'+/C+calc'!A0")
	f2, err := excelize.OpenReader(bytes.NewReader([]byte(book)))
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	for cell, want := range map[string]string{"F2": "'@SUM(1)", "G2": "'=cmd|' /C calc'!A0"} {
		if v, _ := f2.GetCellValue("Transactions", cell); v != want {
			t.Errorf("XLSX %s = %q; want %q", cell, v, want)
		}
	}
	if fm, _ := f2.GetCellFormula("Transactions", "G2"); fm != "" {
		t.Errorf("G2 holds a formula %q", fm)
	}
	// Viewers cannot export.
	if resp, _ := b.get(t, b.login(t, auth.Viewer), "/ezpass/transactions/export.csv"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer export: %d; want 403", resp.StatusCode)
	}
}

func isFloat(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
