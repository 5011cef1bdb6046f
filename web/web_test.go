package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"recondesk/internal/auth"
	"recondesk/internal/config"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// fastHash keeps argon2id cheap in tests.
var fastHash = auth.Params{Memory: 1024, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

type bundle struct {
	db    *pgtest.DB
	deps  Deps
	srv   *httptest.Server
	users map[auth.Role]store.User
}

type setupOpts struct {
	checks []Check
	// log receives the server's JSON log lines (default: discarded).
	log io.Writer
	// riverUI is mounted at /admin/jobs.
	riverUI http.Handler
}

// setup starts the real server on a fresh database with one user per role.
func setup(t *testing.T, opts ...setupOpts) *bundle {
	t.Helper()
	db := pgtest.New(t)
	var logTo io.Writer = io.Discard
	if len(opts) > 0 && opts[0].log != nil {
		logTo = opts[0].log
	}
	log := slog.New(slog.NewJSONHandler(logTo, nil))
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	client, err := jobs.NewClient(jobs.Deps{Pool: db.Pool, Logger: log, Metrics: m}, jobs.RoleWeb)
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Logger: log, Config: cfg, Pool: db.Pool, River: client, Sessions: NewSessions(db.Pool, false), Metrics: m, Hashing: fastHash, Mailbox: true}
	if len(opts) > 0 {
		d.Checks = opts[0].checks
		d.RiverUI = opts[0].riverUI
	}
	b := &bundle{db: db, deps: d, users: map[auth.Role]store.User{}}
	for _, role := range auth.Roles {
		hash, _ := auth.HashPassword(testPassword, fastHash)
		u, err := store.CreateUser(context.Background(), db.Pool, string(role)+"@example.com", role, hash)
		if err != nil {
			t.Fatal(err)
		}
		b.users[role] = u
	}
	b.srv = httptest.NewServer(NewServer(d))
	t.Cleanup(b.srv.Close)
	return b
}

// client returns an HTTP client that keeps cookies and does not follow redirects.
func (b *bundle) client(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login signs a client in as the user of role.
func (b *bundle) login(t *testing.T, role auth.Role) *http.Client {
	t.Helper()
	c := b.client(t)
	resp := b.post(t, c, "/login", url.Values{"email": {string(role) + "@example.com"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d", role, resp.StatusCode)
	}
	return c
}

func (b *bundle) post(t *testing.T, c *http.Client, path string, form url.Values) *http.Response {
	t.Helper()
	resp, err := c.PostForm(b.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (b *bundle) get(t *testing.T, c *http.Client, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("body does not contain %q", w)
		}
	}
}
