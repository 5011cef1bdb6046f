package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"recondesk/internal/app"
	"recondesk/internal/auth"
	"recondesk/internal/faulty"
)

// FaultyPipelineDeps are what the partner, queue and ingestion pages need.
type FaultyPipelineDeps struct {
	// Policy holds the phase windows and the EMSP time zone; the zero value means
	// faulty.DefaultPolicy in Config.EMSPTZ with Config.SendHour.
	Policy faulty.Policy
}

// faultyPolicy is the policy the use cases apply (app.App.FaultyPolicy); for Deps not yet
// given an App, the one NewServer's App would apply.
func faultyPolicy(d Deps) faulty.Policy {
	if d.App != nil {
		return d.App.FaultyPolicy()
	}
	return app.New(app.Deps{Config: d.Config, Faulty: faultyAppDeps(d)}).FaultyPolicy()
}

// faultyPipelinePageRoutes declares the partner admin pages, the queue and the period pages.
func faultyPipelinePageRoutes(r chi.Router, d Deps) {
	r.Group(func(r chi.Router) {
		r.Use(requireRole(d, auth.Viewer))
		r.Method(http.MethodGet, "/faulty/queue", handleFaultyQueue(d))
		r.Method(http.MethodGet, "/faulty/periods/{period}", handleFaultyPeriod(d))
	})
	r.Group(func(r chi.Router) {
		r.Use(requireRole(d, auth.Finance))
		r.Method(http.MethodPost, "/faulty/queue/revalidate", handleFaultyRevalidate(d))
		r.Method(http.MethodPost, "/faulty/periods/{period}/run", handleFaultyPhaseRun(d))
	})
	r.Group(func(r chi.Router) {
		r.Use(requireRole(d, auth.Admin))
		r.Method(http.MethodGet, "/admin/partners", handlePartners(d))
		r.Method(http.MethodPost, "/admin/partners", handlePartnerCreate(d))
		r.Method(http.MethodGet, "/admin/partners/new", handlePartnerNew(d))
		r.Method(http.MethodGet, "/admin/partners/{id}", handlePartnerEdit(d))
		r.Method(http.MethodPost, "/admin/partners/{id}", handlePartnerUpdate(d))
	})
}
