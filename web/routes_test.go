package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"recondesk/internal/auth"
)

// access is the least role a route needs; "" means public.
type access struct {
	method, path string
	role         auth.Role
	api          bool
}

// matrix lists every route with the role it needs. TestEveryRouteIsInMatrix
// fails when a route is added without an entry here.
var matrix = []access{
	{"GET", "/healthz", "", false},
	{"GET", "/readyz", "", false},
	{"GET", "/metrics", auth.Admin, false},
	{"GET", "/static/*", "", false},
	{"GET", "/login", "", false},
	{"POST", "/login", "", false},
	{"POST", "/logout", "", false},
	{"GET", "/", auth.Viewer, false},
	{"GET", "/admin/users", auth.Admin, false},
	{"POST", "/admin/users", auth.Admin, false},
	{"GET", "/admin/users/{id}", auth.Admin, false},
	{"POST", "/admin/users/{id}", auth.Admin, false},
	{"POST", "/admin/users/{id}/tokens/revoke", auth.Admin, false},
	{"POST", "/admin/users/{id}/password", auth.Admin, false},
	{"GET", "/admin/tokens", auth.Admin, false},
	{"POST", "/admin/tokens", auth.Admin, false},
	{"POST", "/admin/tokens/{id}/revoke", auth.Admin, false},
	{"GET", "/admin/audit", auth.Admin, false},
	{"GET", "/admin/mailbox", auth.Admin, false},
	{"GET", "/admin/mailbox/{id}", auth.Admin, false},
	{"GET", "/admin/mailbox/{id}/attachments/{n}", auth.Admin, false},
	{"GET", "/api/me", auth.Viewer, true},
}

// allRoutes is the foundation's matrix plus the modules' (ezpass_test.go, faulty_test.go).
func allRoutes() []access {
	all := append([]access{}, matrix...)
	all = append(all, ezpassMatrix...)
	all = append(all, inboxMatrix...)
	return append(all, faultyMatrix...)
}

func concrete(path string) string {
	path = strings.ReplaceAll(path, "{id}", "999999")
	path = strings.ReplaceAll(path, "{n}", "0")
	path = strings.ReplaceAll(path, "{att}", "999999")
	return strings.ReplaceAll(path, "*", "css/app.css")
}

func TestEveryRouteIsInMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	known := map[string]bool{}
	for _, a := range allRoutes() {
		known[a.method+" "+a.path] = true
	}
	router := routes(b.deps).(chi.Routes)
	err := chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if route == "" {
			route = "/"
		}
		if !known[method+" "+route] && !strings.HasPrefix(route, "/admin/jobs") {
			return fmt.Errorf("route %s %s has no entry in the authorisation matrix", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuthorisationMatrix requests every route as anonymous and as each role.
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clients := map[auth.Role]*http.Client{"": b.client(t)}
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles {
		clients[r] = b.login(t, r)
		tokens[r] = b.token(t, r)
	}
	for _, a := range allRoutes() {
		if a.role == "" || a.path == "/logout" {
			continue
		}
		for _, who := range append([]auth.Role{""}, auth.Roles...) {
			req, _ := http.NewRequest(a.method, b.srv.URL+concrete(a.path), strings.NewReader(url.Values{}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			c := clients[who]
			if a.api {
				c = b.client(t)
				if who != "" {
					req.Header.Set("Authorization", "Bearer "+tokens[who])
				}
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.StatusCode
			switch {
			case who == "" && a.api:
				if got != http.StatusUnauthorized {
					t.Errorf("anonymous %s %s = %d; want 401", a.method, a.path, got)
				}
			case who == "" && a.method == "GET":
				if got != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Errorf("anonymous %s %s = %d %s; want 303 to /login", a.method, a.path, got, resp.Header.Get("Location"))
				}
			case who == "":
				if got != http.StatusUnauthorized {
					t.Errorf("anonymous %s %s = %d; want 401", a.method, a.path, got)
				}
			case !who.Allows(a.role):
				if got != http.StatusForbidden {
					t.Errorf("%s %s %s = %d; want 403", who, a.method, a.path, got)
				}
			default:
				if got == http.StatusUnauthorized || got == http.StatusForbidden || got >= 500 {
					t.Errorf("%s %s %s = %d; want access", who, a.method, a.path, got)
				}
			}
		}
	}
}
