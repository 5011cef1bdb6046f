package web

import (
	"context"
	"net/http"
	"time"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz probes PostgreSQL and every configured dependency. It is
// public, so it says only ok or down per dependency; why one is down goes
// to the log (with the request id), never into the response.
func handleReadyz(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		checks := append([]Check{{Name: "postgres", Probe: func(ctx context.Context) error { return d.Pool.Ping(ctx) }}}, d.Checks...)
		result := map[string]string{}
		status := http.StatusOK
		for _, c := range checks {
			if err := c.Probe(ctx); err != nil {
				d.Logger.Warn("readyz: dependency down", "request_id", RequestIDFrom(r.Context()), "dependency", c.Name, "err", err.Error())
				result[c.Name] = "down"
				status = http.StatusServiceUnavailable
			} else {
				result[c.Name] = "ok"
			}
		}
		writeJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": result})
	})
}

func handleAPIMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "role": u.Role})
	})
}
