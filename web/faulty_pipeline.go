package web

import (
	"recondesk/internal/app"
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
