package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"recondesk/internal/auth"
)

// TestImportProgressShowsPercentage (issue 9): a running import's progress
// card and its row in the imports history show the share of the input read
// as an accessible progress bar and as text, with the live counts.
func TestImportProgressShowsPercentage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	fin := b.login(t, auth.Finance)
	resp, _ := b.upload(t, fin, "/ezpass/imports", "big.csv", exportA(t, txRow("300001", "00812345678", "MTAB&T", 2, 694)))
	m := importPath.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("upload: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	// The state a running import publishes after a few chunks.
	if _, err := b.db.Pool.Exec(ctx, `UPDATE ezpass_imports SET status = 'running', started_at = now(), rows_read = 20000,
		inserted = 19990, duplicates = 10, bytes_read = 420000, bytes_total = 1000000 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}

	_, frag := b.get(t, fin, fmt.Sprintf("/ezpass/imports/%d/progress", id), "HX-Request", "true")
	mustContain(t, frag, `data-status="running"`, `hx-trigger="every 1s"`, `data-testid="import-percent">42%<`,
		`data-testid="count-rows-read">20,000<`)
	bar := regexp.MustCompile(`<progress[^>]*data-testid="import-progressbar"[^>]*>`).FindString(frag)
	for _, want := range []string{`role="progressbar"`, `aria-valuenow="42"`, `aria-valuemin="0"`, `aria-valuemax="100"`, `value="42"`, `max="100"`} {
		if !strings.Contains(bar, want) {
			t.Errorf("progress bar %q lacks %s", bar, want)
		}
	}

	_, page := b.get(t, fin, "/ezpass/imports")
	row := regexp.MustCompile(`(?s)<tr data-testid="import-row">.*?</tr>`).FindString(page)
	if !strings.Contains(row, `role="progressbar"`) || !strings.Contains(row, `data-testid="import-percent">42%<`) {
		t.Errorf("running row of the history shows no percentage: %s", row)
	}

	// Once finished, no progress bar.
	if _, err := b.db.Pool.Exec(ctx, `UPDATE ezpass_imports SET status = 'succeeded', finished_at = now(), bytes_read = bytes_total WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	_, frag = b.get(t, fin, fmt.Sprintf("/ezpass/imports/%d/progress", id), "HX-Request", "true")
	if strings.Contains(frag, "progressbar") {
		t.Errorf("a finished import still shows a progress bar")
	}
}
