package web

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"recondesk/internal/store"
	"recondesk/views/ezpass"
)

func TestImportsHistoryFitsAndProgressLinks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	start := now.Add(-time.Minute)
	long := "EZPass_Transactions_Report_Account_12345678_2026-01-01_to_2026-01-31_final_v2.csv"
	partial := store.EZPassImport{ID: 7, Account: "1234", FileName: long, SizeBytes: 2048, Status: store.ImportPartial,
		Message:   "2 of 10 rows could not be read; the other rows were imported. See the row errors below; correct those rows and upload them in a new file.",
		CreatedAt: start, StartedAt: &start, FinishedAt: &now, RowsRead: 10, Inserted: 8, Errors: 2}
	var buf bytes.Buffer
	if err := ezpass.ImportsTable([]store.EZPassImport{partial}, now, time.UTC).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	file := byTestID(t, body, "import-file")
	if len(file) != 1 || attr(file[0], "title") != long || strings.Contains(textOf(file[0]), long) || !strings.Contains(textOf(file[0]), "…") {
		t.Errorf("file cell: want the name shortened with the full name as its title; got %q", body)
	}
	if st := byTestID(t, body, "import-status"); len(st) != 1 || !strings.Contains(attr(st[0], "class"), "whitespace-nowrap") {
		t.Errorf("status cell must not wrap or clip")
	}

	buf.Reset()
	if err := ezpass.Progress(partial, now, time.UTC).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	body = buf.String()
	if strings.Contains(body, "row errors below") {
		t.Errorf("progress card still says the errors are below")
	}
	links := byTestID(t, body, "row-errors-link")
	if len(links) != 1 {
		t.Fatalf("no row-errors link in %s", body)
	}
	var hrefs []string
	for n := links[0].FirstChild; n != nil; n = n.NextSibling {
		if n.Data == "a" {
			hrefs = append(hrefs, attr(n, "href"))
		}
	}
	if len(hrefs) != 2 || hrefs[0] != "/ezpass/imports/7#row-errors" || hrefs[1] != "/ezpass/imports/7/errors.csv" {
		t.Errorf("row error links %v", hrefs)
	}

	// While it runs, rows read update and Inserted says it comes at the end rather than 0.
	running := store.EZPassImport{ID: 8, FileName: "a.csv", Status: store.ImportRunning, StartedAt: &start, RowsRead: 5000}
	buf.Reset()
	if err := ezpass.Progress(running, now, time.UTC).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	body = buf.String()
	if n := byTestID(t, body, "count-rows-read"); len(n) != 1 || textOf(n[0]) != "5,000" {
		t.Errorf("rows read while running")
	}
	if n := byTestID(t, body, "count-inserted"); len(n) != 1 || textOf(n[0]) == "0" {
		t.Errorf("inserted shows 0 while running")
	}
}
