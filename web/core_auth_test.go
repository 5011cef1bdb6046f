package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// TestSignInBurstChecksAtMostTheLimit sends 29 wrong passwords and the right
// one at once: at most 5 passwords are ever checked (401 or 303), the rest
// are refused (429), and once the limit is hit the right one is refused too.
func TestSignInBurstChecksAtMostTheLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 30
	var wg sync.WaitGroup
	statuses := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			password := "wrong password " + itoa(int64(i))
			if i == n/2 {
				password = testPassword
			}
			<-start
			resp, err := b.client(t).PostForm(b.srv.URL+"/login", url.Values{"email": {"finance@example.com"}, "password": {password}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	t.Logf("statuses: %v", count)
	if checked := count[http.StatusUnauthorized] + count[http.StatusSeeOther]; checked > auth.DefaultThrottle.PerAccount {
		t.Fatalf("%d passwords checked in a burst of %d; the limit is %d (%v)", checked, n, auth.DefaultThrottle.PerAccount, count)
	}
	if count[http.StatusTooManyRequests] < n-auth.DefaultThrottle.PerAccount {
		t.Fatalf("only %d of %d refused with 429 (%v)", count[http.StatusTooManyRequests], n, count)
	}
	if count[http.StatusSeeOther] == 0 {
		// The right password came after the limit: it stays refused.
		resp := b.post(t, b.client(t), "/login", url.Values{"email": {"finance@example.com"}, "password": {testPassword}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password after the limit: %d; want 429", resp.StatusCode)
		}
	}
}

// TestSignInDatabaseErrorSays503NotWrongPassword breaks the users table:
// the person is told to try again, never that the password is wrong.
func TestSignInDatabaseErrorSays503NotWrongPassword(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.db.Pool.Exec(context.Background(), `ALTER TABLE users RENAME TO users_gone`); err != nil {
		t.Fatal(err)
	}
	resp := b.post(t, b.client(t), "/login", url.Values{"email": {"viewer@example.com"}, "password": {testPassword}})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), genericLoginError) ||
		!strings.Contains(string(body), "try again") {
		t.Fatalf("database error at sign-in: %d %s", resp.StatusCode, body)
	}
}

// TestSignOutAuditFailureIsShownAndSessionStillEnds.
func TestSignOutAuditFailureIsShownAndSessionStillEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	viewer := b.login(t, auth.Viewer)
	_, err := b.db.Pool.Exec(context.Background(), `
		CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW
		WHEN (NEW.action = 'logout') EXECUTE FUNCTION refuse_audit();`)
	if err != nil {
		t.Fatal(err)
	}
	resp := b.post(t, viewer, "/logout", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "You are signed out, but recording the sign-out") {
		t.Fatalf("logout with failing audit: %d", resp.StatusCode)
	}
	if r, _ := b.get(t, viewer, "/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("still signed in after sign-out: %d", r.StatusCode)
	}
}

// TestAdminChangesEndTheUsersSessions: a password reset, a role change and
// disabling each sign the user out everywhere, and no one else.
func TestAdminChangesEndTheUsersSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.login(t, auth.Admin)
	id := itoa(b.users[auth.Finance].ID)
	signedIn := func(c *http.Client) bool { r, _ := b.get(t, c, "/"); return r.StatusCode == http.StatusOK }
	for _, change := range []struct {
		name, path string
		form       url.Values
	}{
		{"password reset", "/admin/users/" + id + "/password", url.Values{"password": {testPassword}}},
		{"role change", "/admin/users/" + id, url.Values{"role": {"viewer"}}},
		{"back to finance", "/admin/users/" + id, url.Values{"role": {"finance"}}},
		{"disable", "/admin/users/" + id, url.Values{"role": {"finance"}, "disabled": {"1"}}},
	} {
		one, two := b.login(t, auth.Finance), b.login(t, auth.Finance)
		other := b.login(t, auth.Viewer)
		if r := b.post(t, admin, change.path, change.form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d", change.name, r.StatusCode)
		}
		if signedIn(one) || signedIn(two) {
			t.Fatalf("after %s the user is still signed in", change.name)
		}
		if !signedIn(other) || !signedIn(admin) {
			t.Fatalf("%s ended someone else's session", change.name)
		}
	}
	var left int
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM session_users WHERE user_id = $1`, b.users[auth.Finance].ID).Scan(&left)
	if left != 0 {
		t.Fatalf("%d sessions of the user remain", left)
	}
}

// TestUserPageListsTokensAndRevokesAll.
func TestUserPageListsTokensAndRevokesAll(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok1, tok2 := b.token(t, auth.Finance), b.token(t, auth.Finance)
	viewerTok := b.token(t, auth.Viewer)
	admin := b.login(t, auth.Admin)
	id := itoa(b.users[auth.Finance].ID)
	resp, body := b.get(t, admin, "/admin/users/"+id)
	if resp.StatusCode != http.StatusOK || strings.Count(body, `data-testid="user-token"`) != 2 || !strings.Contains(body, `data-testid="revoke-all-tokens"`) {
		t.Fatalf("user page: %d, %d tokens listed", resp.StatusCode, strings.Count(body, `data-testid="user-token"`))
	}
	if r := b.post(t, admin, "/admin/users/"+id+"/tokens/revoke", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke all: %d", r.StatusCode)
	}
	call := func(tok string) int {
		r, _ := b.get(t, b.client(t), "/api/me", "Authorization", "Bearer "+tok)
		return r.StatusCode
	}
	if call(tok1) != http.StatusUnauthorized || call(tok2) != http.StatusUnauthorized {
		t.Fatal("a token survived revoke-all")
	}
	if call(viewerTok) != http.StatusOK {
		t.Fatal("revoke-all revoked another user's token")
	}
	evs, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{Action: "api_token.revoke_all", SubjectID: id})
	if len(evs) != 1 || evs[0].Actor != store.UserActor(b.users[auth.Admin].ID) {
		t.Fatalf("audit: %+v", evs)
	}
}
