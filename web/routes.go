package web

import (
	"io/fs"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/static"
	"recondesk/views/layout"
)

// navFor lists the areas a role sees; areas not built yet are absent.
func navFor(role auth.Role, active string) []layout.NavItem {
	items := []layout.NavItem{{Label: "Home", Href: "/"}}
	items = append(items, faultyNav()...)
	items = append(items, ezpassNav()...)
	items = append(items, layout.NavItem{Label: "Fleet data", Href: "/fleet/vehicles"})
	items = append(items, inboxNav()...)
	if role.Allows(auth.Admin) {
		items = append(items, layout.NavItem{Label: "Admin", Href: "/admin/users"})
	}
	for i := range items {
		items[i].Active = items[i].Label == active
	}
	return items
}

// routes declares every route, grouped by the middleware they need.
func routes(d Deps) http.Handler {
	r := chi.NewRouter()
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(d, w, r, apperror.New(apperror.Forbidden, "This request came from another site and was refused. Reload the page and try again."))
	}))

	r.Use(requestID, recoverPanics(d.Logger), accessLog(d.Logger, d.Metrics), securityHeaders, displayZone(d.Config.DisplayTZ), csrf.Handler)

	// Public: health (ok/down only), static files. Metrics are for admins
	// here, or on their own listener (METRICS_ADDR, cmd/recondesk/serve.go).
	r.Method(http.MethodGet, "/healthz", handleHealthz())
	r.Method(http.MethodGet, "/readyz", handleReadyz(d))
	staticFS, _ := fs.Sub(static.FS, ".")
	r.Method(http.MethodGet, "/static/*", http.StripPrefix("/static/", staticFiles(staticFS)))

	// JSON API: bearer tokens, no session.
	r.Route("/api", func(r chi.Router) {
		r.Use(timeout(2 * time.Minute))
		r.Group(func(r chi.Router) {
			r.Use(apiAuth(d, auth.Viewer))
			r.Method(http.MethodGet, "/me", handleAPIMe())
		})

		// --- E-ZPass API ---
		ezpassMatchAPIRoutes(r, d)
		ezpassImportAPIRoutes(r, d)

		// --- Faulty bookings API ---
		faultyLadderAPIRoutes(r, d)

		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			fail(d, w, r, apperror.New(apperror.NotFound, "No API endpoint %s %s.", r.Method, r.URL.Path))
		})
	})

	// Browser: session-based.
	r.Group(func(r chi.Router) {
		r.Use(d.Sessions.LoadAndSave, loadUser(d), timeout(2*time.Minute))

		r.Method(http.MethodGet, "/login", handleLoginPage(d))
		r.Method(http.MethodPost, "/login", handleLogin(d))
		r.Method(http.MethodPost, "/logout", handleLogout(d))

		r.Group(func(r chi.Router) {
			r.Use(requireRole(d, auth.Viewer))
			r.Method(http.MethodGet, "/", handleHome(d))
		})
		r.With(requireRole(d, auth.Admin)).Method(http.MethodGet, "/metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{}))

		// --- E-ZPass and Ledger pages ---
		ezpassMatchPageRoutes(r, d)
		ezpassImportPageRoutes(r, d)

		// --- Faulty bookings pages ---
		faultyLadderPageRoutes(r, d)
		faultyPipelinePageRoutes(r, d)

		// --- Partner replies (inbox): viewer reads, finance acts ---
		inboxPageRoutes(r, d)

		r.Route("/admin", func(r chi.Router) {
			r.Use(requireRole(d, auth.Admin))
			r.Method(http.MethodGet, "/users", handleUsers(d))
			r.Method(http.MethodPost, "/users", handleUserCreate(d))
			r.Method(http.MethodGet, "/users/{id}", handleUser(d))
			r.Method(http.MethodPost, "/users/{id}", handleUserUpdate(d))
			r.Method(http.MethodPost, "/users/{id}/tokens/revoke", handleUserTokensRevoke(d))
			r.Method(http.MethodPost, "/users/{id}/password", handleUserPassword(d))
			r.Method(http.MethodGet, "/tokens", handleTokens(d))
			r.Method(http.MethodPost, "/tokens", handleTokenCreate(d))
			r.Method(http.MethodPost, "/tokens/{id}/revoke", handleTokenRevoke(d))
			r.Method(http.MethodGet, "/audit", handleAudit(d))
			if d.Mailbox {
				r.Method(http.MethodGet, "/mailbox", handleMailbox(d))
				r.Method(http.MethodGet, "/mailbox/{id}", handleMailboxMessage(d))
				r.Method(http.MethodGet, "/mailbox/{id}/attachments/{n}", handleMailboxAttachment(d))
			}
			if d.RiverUI != nil {
				r.Handle("/jobs", http.RedirectHandler("/admin/jobs/", http.StatusMovedPermanently))
				r.Handle("/jobs/*", auditRiverUI(d, d.RiverUI))
			}
		})

		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			fail(d, w, r, apperror.New(apperror.NotFound, "There is no page at %s.", r.URL.Path))
		})
	})
	return r
}

// staticFiles serves embedded assets with long caching for versioned files.
func staticFiles(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
