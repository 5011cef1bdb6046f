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
			r.Method(http.MethodGet, "/ezpass/imports/{id}", handleAPIImport(d))
			r.Method(http.MethodGet, "/ezpass/transactions", handleAPITxns(d))
			r.Method(http.MethodGet, "/ezpass/transactions/{id}", handleAPITxn(d))
			r.Method(http.MethodGet, "/faulty/batches", handleAPIFaultyBatches(d))
			r.Method(http.MethodGet, "/faulty/batches/{id}", handleAPIFaultyBatch(d))
		})
		r.Group(func(r chi.Router) {
			r.Use(apiAuth(d, auth.Finance))
			r.Method(http.MethodPost, "/ezpass/imports", handleAPIImportCreate(d))
			r.Method(http.MethodPut, "/ezpass/transactions/{id}", handleAPIAssign(d))
			r.Method(http.MethodPost, "/ezpass/associate", handleAPIRun(d, d.App.RequestAssociate))
			r.Method(http.MethodPost, "/ezpass/post", handleAPIRun(d, d.App.RequestPost))
			r.Method(http.MethodPost, "/faulty/batches/{id}/escalate", handleAPIFaultyEscalate(d))
			r.Method(http.MethodPost, "/faulty/batches/{id}/resolve", handleAPIFaultyResolve(d))
			r.Method(http.MethodPost, "/faulty/ingest", handleAPIFaultyIngest(d))
		})

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

		// Viewers read every page.
		r.Group(func(r chi.Router) {
			r.Use(requireRole(d, auth.Viewer))
			r.Method(http.MethodGet, "/", handleHome(d))
			// E-ZPass and the ledger
			r.Method(http.MethodGet, "/ezpass/imports", handleImports(d))
			r.Method(http.MethodGet, "/ezpass/imports/{id}", handleImport(d))
			r.Method(http.MethodGet, "/ezpass/imports/{id}/progress", handleImportProgress(d))
			r.Method(http.MethodGet, "/ezpass/transactions", handleTxns(d))
			r.Method(http.MethodGet, "/ezpass/transactions/{id}", handleTxn(d))
			r.Method(http.MethodGet, "/ezpass/failures", handleFailures(d))
			r.Method(http.MethodGet, "/ezpass/runs", handleRuns(d))
			r.Method(http.MethodGet, "/ledger", handleLedger(d))
			r.Method(http.MethodGet, "/ledger/drivers/{id}", handleDriverStatement(d))
			r.Method(http.MethodGet, "/ledger/journals/{id}", handleJournal(d))
			for _, e := range fleetEntities {
				r.Method(http.MethodGet, "/fleet/"+e.Name, handleFleetPage(d, e))
			}
			// Faulty bookings and partner replies
			r.Method(http.MethodGet, "/faulty", handleFaultyOverview(d))
			r.Method(http.MethodGet, "/faulty/batches/{id}", handleFaultyBatch(d))
			r.Method(http.MethodGet, "/faulty/batches/{id}/items", handleFaultyBatchItems(d))
			r.Method(http.MethodGet, "/faulty/queue", handleFaultyQueue(d))
			r.Method(http.MethodGet, "/faulty/periods/{period}", handleFaultyPeriod(d))
			r.Method(http.MethodGet, "/inbox/unmatched", handleInboxUnmatched(d))
			r.Method(http.MethodGet, "/disputes", handleDisputes(d))
		})

		// Finance acts and downloads.
		r.Group(func(r chi.Router) {
			r.Use(requireRole(d, auth.Finance))
			// E-ZPass and the ledger
			r.Method(http.MethodPost, "/ezpass/imports", handleImportUpload(d))
			r.Method(http.MethodGet, "/ezpass/imports/{id}/errors.csv", handleImportErrorsCSV(d))
			r.Method(http.MethodGet, "/ezpass/imports/{id}/file", handleImportFile(d))
			r.Method(http.MethodGet, "/ezpass/transactions/export.csv", handleTxnExportCSV(d))
			r.Method(http.MethodGet, "/ezpass/transactions/export.xlsx", handleTxnExportXLSX(d))
			r.Method(http.MethodGet, "/ezpass/assign", handleAssignForm(d))
			r.Method(http.MethodPost, "/ezpass/assign", handleAssign(d))
			r.Method(http.MethodPost, "/ezpass/associate", handleRunNow(d, "Association", d.App.RequestAssociate))
			r.Method(http.MethodPost, "/ezpass/post", handleRunNow(d, "Posting", d.App.RequestPost))
			// Faulty bookings
			r.Method(http.MethodGet, "/faulty/batches/{id}/master-files/{version}", handleFaultyMasterFile(d))
			r.Method(http.MethodPost, "/faulty/batches/{id}/run", handleFaultyRunNow(d))
			r.Method(http.MethodPost, "/faulty/batches/{id}/escalate", handleFaultyEscalate(d))
			r.Method(http.MethodPost, "/faulty/batches/{id}/resolve-items", handleFaultyResolveItems(d))
			r.Method(http.MethodPost, "/faulty/batches/{id}/resolve", handleFaultyResolveBatch(d))
			r.Method(http.MethodPost, "/faulty/batches/{id}/reply", handleBatchReply(d))
			r.Method(http.MethodPost, "/faulty/emails/{id}/mark-sent", handleFaultyEmailMarkSent(d))
			r.Method(http.MethodPost, "/faulty/emails/{id}/resend", handleFaultyEmailResend(d))
			r.Method(http.MethodPost, "/faulty/queue/revalidate", handleFaultyRevalidate(d))
			r.Method(http.MethodPost, "/faulty/periods/{period}/run", handleFaultyPhaseRun(d))
			// Partner replies
			r.Method(http.MethodGet, "/inbox/messages/{id}/attachments/{att}", handleInboxAttachment(d))
			r.Method(http.MethodPost, "/inbox/messages/{id}/attach", handleInboxAttach(d))
			r.Method(http.MethodPost, "/inbox/poll", handleInboxPoll(d))
			r.Method(http.MethodPost, "/disputes/{id}/accept", handleDisputeDecision(d, true))
			r.Method(http.MethodPost, "/disputes/{id}/reject", handleDisputeDecision(d, false))
		})

		// Admins: fleet uploads, users, tokens, partners, audit, mailbox, jobs, metrics.
		r.Group(func(r chi.Router) {
			r.Use(requireRole(d, auth.Admin))
			r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{}))
			for _, e := range fleetEntities {
				r.Method(http.MethodPost, "/fleet/"+e.Name, handleFleetUpload(d, e))
			}
		})
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
			r.Method(http.MethodGet, "/partners", handlePartners(d))
			r.Method(http.MethodPost, "/partners", handlePartnerCreate(d))
			r.Method(http.MethodGet, "/partners/new", handlePartnerNew(d))
			r.Method(http.MethodGet, "/partners/{id}", handlePartnerEdit(d))
			r.Method(http.MethodPost, "/partners/{id}", handlePartnerUpdate(d))
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
