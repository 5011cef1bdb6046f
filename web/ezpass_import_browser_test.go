package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"recondesk/internal/browsertest"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
)

// TestBrowserEZPassDropImportAndExport drops a file on the Imports page
// with real drag events, watches the import reach its summary, imports a
// second file with the file picker, then exports the filtered list.
func TestBrowserEZPassDropImportAndExport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := browsertest.New(t, 90*time.Second)
	worker, err := jobs.NewClient(jobs.Deps{Pool: b.db.Pool, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: metrics.New()}, jobs.RoleAll)
	if err != nil {
		t.Fatal(err)
	}
	workCtx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := worker.Start(workCtx); err != nil {
		t.Fatal(err)
	}
	defer worker.Stop(context.Background())
	if err := browsertest.Login(ctx, b.srv.URL, "finance@example.com", testPassword); err != nil {
		t.Fatal(err)
	}

	dropped := exportA(t, txRow("610001", "00812345678", "MTAB&T", 2, 694), txRow("610002", "NY T123456C", "PANYNJ", 3, 1606),
		txRow("610003", "NY T123456C", "PANYNJ", 4, 1538))
	dropped = append(dropped, []byte("610004,00812345678,MTAB&T,,VERRAZANO,1,01/05/2026,08:00:00 AM,n/a\r\n")...)
	// CDP cannot drag files from the OS: build the DataTransfer in the page
	// from the file's bytes and dispatch the drag events a person's drop fires.
	dropJS := fmt.Sprintf(`(() => {
		const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		const dt = new DataTransfer();
		dt.items.add(new File([bytes], "dropped.csv", {type: "text/csv"}));
		const zone = document.querySelector('[data-testid="dropzone"]');
		const fire = (type) => zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
		fire("dragenter");
		const accepted = !fire("dragover");
		const highlighted = zone.getAttribute("data-dragging");
		fire("drop");
		return accepted + "/" + highlighted;
	})()`, base64.StdEncoding.EncodeToString(dropped))

	if err := chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ezpass/imports"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="dropzone"]`)),
	); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](dropJS))
	if err != nil {
		t.Fatal(err)
	}
	if state != "true/true" {
		t.Errorf("dragover accepted/highlighted = %s; want true/true", state)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-progress"][data-status="partial"] [data-testid="import-summary"]`))); err != nil {
		t.Fatalf("the dropped file never finished importing: %v", err)
	}
	inserted, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="import-progress"] [data-testid="count-inserted"]`)))
	if err != nil || inserted != "3" {
		t.Errorf("inserted = %q, %v; want 3", inserted, err)
	}
	errs, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="import-progress"] [data-testid="count-errors"]`)))
	if errs != "1" {
		t.Errorf("row errors = %q; want 1", errs)
	}

	// The file picker: a second export.
	picked := filepath.Join(t.TempDir(), "picked.csv")
	if err := os.WriteFile(picked, exportA(t, txRow("620001", "NY T123456C", "PANYNJ", 6, 1606)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS(`#f-file`), []string{picked}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-progress"][data-status="succeeded"] [data-testid="import-summary"]`)),
	); err != nil {
		t.Fatalf("the picked file never finished importing: %v", err)
	}
	name, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="import-progress"] h2`)))
	if !strings.Contains(name, "picked.csv") {
		t.Errorf("progress shows %q; want picked.csv", name)
	}

	// Filter the list, then export it as the link does and check the file.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ezpass/transactions"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="txn-table"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-agency`), "PANYNJ"),
		chromedp.Click(chromedp.CSS(`[data-testid="filter-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="export-csv"][href*="agency=PANYNJ"]`)),
	); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="txn-row"]').length`))
	if err != nil || rows != 3 {
		t.Errorf("%d rows after filtering, %v; want 3", rows, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.querySelector('[data-testid="export-csv"]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, text)
	}
	if len(recs) != 4 || recs[0][0] != "ID" {
		t.Fatalf("export has %d records; want header + 3:\n%s", len(recs), text)
	}
	for _, r := range recs[1:] {
		if r[6] != "PANYNJ" {
			t.Errorf("exported row of agency %q; want only PANYNJ", r[6])
		}
	}
}
