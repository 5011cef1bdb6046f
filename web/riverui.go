package web

import (
	"net/http"
)

// auditRiverUI wraps River UI so that every state-changing request (any
// method but GET, HEAD and OPTIONS) that succeeds is audited with the admin
// as actor. A failed audit write is logged and reported to the caller.
func auditRiverUI(d Deps, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			ui.ServeHTTP(w, r)
			return
		}
		rec := &bufferedWriter{header: http.Header{}}
		ui.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if rec.status < 400 {
			if err := d.App.AuditJobsAction(r.Context(), actorOf(r), r.Method, r.URL.Path, rec.status); err != nil {
				fail(d, w, r, err)
				return
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	})
}

// bufferedWriter holds a small API response until it has been audited.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}
