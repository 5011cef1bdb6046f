package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/format"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
	"recondesk/web/query"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	userKey
)

// requestID tags every request with an id, in the context and the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// RequestIDFrom returns the request id set by the middleware.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush lets streamed responses (exports, progress) reach the client.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// accessLog logs one JSON line per request (path only: query strings may
// hold personal data) and records latency by route pattern.
func accessLog(log *slog.Logger, m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			d := time.Since(start)
			m.HTTPDuration.WithLabelValues(route, r.Method, strconv.Itoa(sw.status/100)+"xx").Observe(d.Seconds())
			log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("request_id", RequestIDFrom(r.Context())),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", sw.status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", d))
		})
	}
}

// recoverPanics turns a panic into a logged 500 with a generic message.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic", "request_id", RequestIDFrom(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					http.Error(w, apperror.MessageOf(nil), http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// securityHeaders sets a strict CSP with a per-request script nonce and the
// other protective headers.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce := base64.StdEncoding.EncodeToString(b)
		h := w.Header()
		csp := "default-src 'self'; script-src 'self' 'nonce-" + nonce + "'; style-src 'self'; img-src 'self' data:; " +
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; frame-src 'self'"
		if strings.HasPrefix(r.URL.Path, "/admin/jobs") {
			// River UI (riverui v0.22 dist/index.html) loads one module
			// script from its own path and keeps its config in a
			// <script type="application/json"> block, which is data, not
			// code: no inline script is needed. Its React components set
			// inline styles, so styles keep 'unsafe-inline'.
			csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
				"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r.WithContext(templ.WithNonce(r.Context(), nonce)))
	})
}

// timeout bounds how long a handler may work on a request.
func timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// userFrom returns the signed-in user, if any.
func userFrom(ctx context.Context) (store.User, bool) {
	u, ok := ctx.Value(userKey).(store.User)
	return u, ok
}

// loadUser puts the session's user in the context. A session that is no
// longer bound to its user (sign-out, an admin's reset, disable or role
// change) or whose user is disabled is destroyed.
func loadUser(d Deps) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := d.Sessions.GetInt64(r.Context(), "user_id")
			if id == 0 {
				next.ServeHTTP(w, r)
				return
			}
			u, err := d.App.SessionUser(r.Context(), d.Sessions.Token(r.Context()), id)
			if apperror.CodeOf(err) == apperror.NotFound {
				// Signed out elsewhere, or ended by an admin's change.
				if err := d.Sessions.Destroy(r.Context()); err != nil {
					fail(d, w, r, err)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			if err != nil {
				fail(d, w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, u)))
		})
	}
}

// requireRole lets signed-in users with at least role through; anonymous
// users are sent to sign in, others get 403.
func requireRole(d Deps, role auth.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := userFrom(r.Context())
			if !ok {
				target := "/login?next=" + safeNext(r.URL.RequestURI())
				if r.Method != http.MethodGet {
					target = "/login"
				}
				if isHTMX(r) {
					w.Header().Set("HX-Redirect", target)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					fail(d, w, r, apperror.New(apperror.Unauthenticated, "Your session has ended. Sign in again."))
					return
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return
			}
			if !u.Role.Allows(role) {
				fail(d, w, r, apperror.New(apperror.Forbidden, "Your role (%s) cannot do this; it needs %s. Ask an administrator if you need access.", u.Role, role))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// apiAuth authenticates /api requests by bearer token and checks the role.
func apiAuth(d Deps, role auth.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := r.Header.Get("Authorization")
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || strings.TrimSpace(tok) == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="recondesk"`)
				fail(d, w, r, apperror.New(apperror.Unauthenticated, "Send an API token as 'Authorization: Bearer <token>'."))
				return
			}
			u, err := store.UserByTokenHash(r.Context(), d.Pool, auth.HashToken(strings.TrimSpace(tok)))
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="recondesk", error="invalid_token"`)
				fail(d, w, r, err)
				return
			}
			if !u.Role.Allows(role) {
				fail(d, w, r, apperror.New(apperror.Forbidden, "This token's role (%s) cannot do this; it needs %s.", u.Role, role))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, u)))
		})
	}
}

// clientAddr is the remote address without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// safeNext keeps only paths on this site as redirect targets (query.SafeNext).
func safeNext(next string) string { return query.SafeNext(next) }

// displayZone puts the display zone (DISPLAY_TZ) in the request context,
// where the views' formatter reads it.
func displayZone(loc *time.Location) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(format.WithZone(r.Context(), loc)))
		})
	}
}
