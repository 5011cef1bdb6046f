package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// TestRiverUIActionsAreAudited: a state-changing River UI request is
// audited with the admin as actor; reads are not; its CSP has no inline scripts.
func TestRiverUIActionsAreAudited(t *testing.T) {
	t.Parallel()
	// A stand-in for River UI's API: answers like it (JSON, 200).
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	b := setup(t, setupOpts{riverUI: ui})
	admin := b.login(t, auth.Admin)
	resp, _ := b.get(t, admin, "/admin/jobs/api/queues")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != http.StatusOK || !strings.Contains(csp, "script-src 'self';") {
		t.Fatalf("River UI GET: %d, CSP %q", resp.StatusCode, csp)
	}
	req, _ := http.NewRequest(http.MethodPut, b.srv.URL+"/admin/jobs/api/queues/default/pause", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pause: %d", resp.StatusCode)
	}
	evs, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{SubjectType: "river_ui"})
	if len(evs) != 1 || evs[0].Action != "river_ui.PUT" || evs[0].SubjectID != "/admin/jobs/api/queues/default/pause" ||
		evs[0].Actor != store.UserActor(b.users[auth.Admin].ID) {
		t.Fatalf("audit: %+v", evs)
	}
}
