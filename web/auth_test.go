package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// token creates an API token for the user of role through the admin page.
func (b *bundle) token(t *testing.T, role auth.Role) string {
	t.Helper()
	admin := b.login(t, auth.Admin)
	resp := b.post(t, admin, "/admin/tokens", url.Values{"user_id": {itoa(b.users[role].ID)}, "name": {"test " + string(role)}})
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`data-testid="new-token">(rdk_[0-9a-f]+)<`).FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create token: status %d, token shown: %v", resp.StatusCode, m != nil)
	}
	return string(m[1])
}

func TestLoginSetsSafeCookieAndRenewsToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	// A session exists before login (flash, CSRF-free forms): its token must change.
	resp := b.post(t, c, "/login", url.Values{"email": {"viewer@example.com"}, "password": {"wrong password!"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad password: status %d", resp.StatusCode)
	}
	resp = b.post(t, c, "/login", url.Values{"email": {"Viewer@Example.com"}, "password": {testPassword}, "next": {"/admin/audit"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/audit" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "recondesk_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure || session.Path != "/" {
		t.Errorf("cookie flags: HttpOnly=%v SameSite=%v Secure=%v Path=%q", session.HttpOnly, session.SameSite, session.Secure, session.Path)
	}
	// Signed in: Home shows the user; logout renews the token and ends access.
	_, body := b.get(t, c, "/")
	mustContain(t, body, `data-testid="signed-in-user">viewer@example.com<`, `data-testid="signed-in-role">viewer<`)
	resp = b.post(t, c, "/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if r, _ := b.get(t, c, "/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout Home = %d; want redirect to sign in", r.StatusCode)
	}
	// The old session token no longer works.
	old := b.client(t)
	u, _ := url.Parse(b.srv.URL)
	old.Jar.SetCookies(u, []*http.Cookie{session})
	if r, _ := b.get(t, old, "/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("old session token still valid: %d", r.StatusCode)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	t.Parallel()
	s := NewSessions(nil, true)
	if !s.Cookie.Secure || s.IdleTimeout.Minutes() != 30 || s.Lifetime.Hours() != 12 {
		t.Fatalf("session policy: %+v idle %v lifetime %v", s.Cookie, s.IdleTimeout, s.Lifetime)
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	for i := range 5 {
		resp := b.post(t, c, "/login", url.Values{"email": {"finance@example.com"}, "password": {"guess number " + itoa(int64(i))}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), genericLoginError) {
			t.Fatal("failed sign-in must show the generic message")
		}
	}
	// Even the right password is refused now, with a clear message.
	resp := b.post(t, c, "/login", url.Values{"email": {"finance@example.com"}, "password": {testPassword}})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "Too many failed sign-ins") {
		t.Fatalf("throttled: %d %s", resp.StatusCode, body)
	}
	// Another account from another address is unaffected.
	b.login(t, auth.Viewer)
	// An unknown account gets the same generic answer as a wrong password.
	resp = b.post(t, b.client(t), "/login", url.Values{"email": {"nobody@example.com"}, "password": {testPassword}})
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), genericLoginError) {
		t.Fatalf("unknown account: %d", resp.StatusCode)
	}
}

func TestAPITokenCreateUseRevoke(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token(t, auth.Finance)
	call := func(token string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	status, v := call(tok)
	if status != http.StatusOK || v["email"] != "finance@example.com" || v["role"] != "finance" {
		t.Fatalf("GET /api/me = %d %v", status, v)
	}
	var stored []byte
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT token_hash FROM api_tokens`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), tok) || string(stored) != string(auth.HashToken(tok)) {
		t.Fatal("the token must be stored hashed")
	}
	var id int64
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT id FROM api_tokens`).Scan(&id)
	admin := b.login(t, auth.Admin)
	if resp := b.post(t, admin, "/admin/tokens/"+itoa(id)+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	status, v = call(tok)
	errObj, _ := v["error"].(map[string]any)
	if status != http.StatusUnauthorized || errObj["code"] != "unauthenticated" {
		t.Fatalf("revoked token: %d %v", status, v)
	}
	evs, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{SubjectType: "api_token"})
	if len(evs) != 2 || evs[0].Action != "api_token.revoke" || evs[1].Action != "api_token.create" {
		t.Fatalf("audit: %+v", evs)
	}
}

func TestCrossOriginPostIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.login(t, auth.Admin)
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/admin/users", strings.NewReader(url.Values{
			"email": {"mallory@example.com"}, "role": {"admin"}, "password": {"a long password!"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := admin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%v: status %d; want 403", h, resp.StatusCode)
		}
	}
	if _, err := store.UserByEmail(context.Background(), b.db.Pool, "mallory@example.com"); err == nil {
		t.Fatal("a cross-origin POST created a user")
	}
	// Same-origin browsers send Sec-Fetch-Site: same-origin and pass.
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/admin/users", strings.NewReader(url.Values{
		"email": {"carol@example.com"}, "role": {"viewer"}, "password": {"a long password!"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST: %d", resp.StatusCode)
	}
}

func TestUserAdminValidatesAndAudits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.login(t, auth.Admin)
	resp := b.post(t, admin, "/admin/users", url.Values{"email": {"not-an-email"}, "role": {"boss"}, "password": {"short"}})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid form: %d", resp.StatusCode)
	}
	mustContain(t, string(body), `data-testid="error-email"`, `data-testid="error-password"`, "Choose viewer, finance or admin.")
	resp = b.post(t, admin, "/admin/users", url.Values{"email": {"dora@example.com"}, "role": {"finance"}, "password": {"a long password!"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	u, err := store.UserByEmail(context.Background(), b.db.Pool, "dora@example.com")
	if err != nil || u.Role != auth.Finance {
		t.Fatalf("created user: %+v %v", u, err)
	}
	// Disable her: her sessions stop working.
	dora := b.client(t)
	if r := b.post(t, dora, "/login", url.Values{"email": {"dora@example.com"}, "password": {"a long password!"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("dora login: %d", r.StatusCode)
	}
	if r := b.post(t, admin, "/admin/users/"+itoa(u.ID), url.Values{"role": {"finance"}, "disabled": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if r, _ := b.get(t, dora, "/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabled user still signed in: %d", r.StatusCode)
	}
	// The last admin cannot be demoted.
	adminID := b.users[auth.Admin].ID
	r := b.post(t, admin, "/admin/users/"+itoa(adminID), url.Values{"role": {"viewer"}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("demoting the last admin: %d", r.StatusCode)
	}
	evs, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{SubjectType: "user", SubjectID: itoa(u.ID)})
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "user.update,login,user.create" {
		t.Fatalf("audit actions: %v", actions)
	}
	if !strings.Contains(string(evs[0].Before), `"disabled": false`) || !strings.Contains(string(evs[0].After), `"disabled": true`) {
		t.Fatalf("before/after: %s → %s", evs[0].Before, evs[0].After)
	}
	// The audit page filters by action and shows the row.
	_, body2 := b.get(t, admin, "/admin/audit?action=user.create&subject_id="+itoa(u.ID))
	if n := strings.Count(body2, `data-testid="audit-row"`); n != 1 {
		t.Fatalf("audit page rows = %d; want 1", n)
	}
}

func TestHTMXGetsFragmentAndVary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	resp, full := b.get(t, c, "/login")
	if !strings.Contains(full, "<html") || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") {
		t.Fatal("full page expected with Vary: HX-Request")
	}
	_, frag := b.get(t, c, "/login", "HX-Request", "true")
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="login"`) {
		t.Fatalf("fragment expected, got %q", frag[:min(200, len(frag))])
	}
	_, restore := b.get(t, c, "/login", "HX-Request", "true", "HX-History-Restore-Request", "true")
	if !strings.Contains(restore, "<html") {
		t.Fatal("history restore must get the full page")
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := b.get(t, b.client(t), "/login")
	csp := resp.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
	if m == nil || !strings.Contains(body, `nonce="`+m[1]+`"`) {
		t.Fatalf("CSP nonce not applied to scripts: %q", csp)
	}
	mustContain(t, csp, "frame-ancestors 'none'", "object-src 'none'")
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
		t.Fatal("missing protective headers")
	}
	resp2, _ := b.get(t, b.client(t), "/login")
	if resp2.Header.Get("Content-Security-Policy") == csp {
		t.Fatal("nonce must differ per request")
	}
}

func TestReadyzReportsStoppedDependency(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{checks: []Check{{Name: "smtp", Probe: func(context.Context) error { return errors.New("connection refused") }}}})
	resp, body := b.get(t, b.client(t), "/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz = %d", resp.StatusCode)
	}
	var v struct {
		Ready  bool
		Checks map[string]string
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	// Anonymous callers learn only ok/down (issue 8 #10); the reason is logged.
	if v.Ready || v.Checks["postgres"] != "ok" || v.Checks["smtp"] != "down" || strings.Contains(body, "connection refused") {
		t.Fatalf("readyz body: %s", body)
	}
}

func TestNotFoundAndAPIErrorsAreJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	viewer := b.login(t, auth.Viewer)
	resp, body := b.get(t, viewer, "/no/such/page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no page at /no/such/page") {
		t.Fatalf("404 page: %d", resp.StatusCode)
	}
	resp, body = b.get(t, b.client(t), "/api/me", "Authorization", "Bearer rdk_nope")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code": "unauthenticated"`) {
		t.Fatalf("API error: %d %s", resp.StatusCode, body)
	}
}
