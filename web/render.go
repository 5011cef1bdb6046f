package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/a-h/templ"

	"recondesk/internal/apperror"
	"recondesk/views"
	"recondesk/views/layout"
)

// isHTMX reports an htmx request that wants a fragment (not a history restore).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// render writes the fragment for htmx requests and the full page otherwise.
func render(w http.ResponseWriter, r *http.Request, status int, full, fragment templ.Component) {
	w.Header().Add("Vary", "HX-Request")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	c := full
	if fragment != nil && isHTMX(r) {
		c = fragment
	}
	w.WriteHeader(status)
	_ = c.Render(r.Context(), w)
}

// redirect answers a successful POST: 303 for forms; for htmx a full
// navigation (HX-Redirect), so the next page renders whole with its flash.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// writeJSON writes v as JSON with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// isAPI reports a request to the JSON API.
func isAPI(r *http.Request) bool {
	return len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/"
}

// fail is the one place that turns errors into responses: JSON for the API,
// an error page (or banner fragment for htmx) for the UI; internal errors
// are logged with the request id and shown generically.
func fail(d Deps, w http.ResponseWriter, r *http.Request, err error) {
	status := apperror.Status(err)
	msg := apperror.MessageOf(err)
	if status >= 500 {
		d.Logger.Error("request failed", "request_id", RequestIDFrom(r.Context()), "route", r.URL.Path, "err", err.Error())
	}
	if isAPI(r) {
		body := map[string]any{"code": string(apperror.CodeOf(err)), "message": msg}
		var e *apperror.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			body["fields"] = e.Fields
		}
		writeJSON(w, status, map[string]any{"error": body})
		return
	}
	if isHTMX(r) {
		w.Header().Set("HX-Retarget", "#main")
		w.Header().Set("HX-Reswap", "afterbegin")
		render(w, r, status, nil, bannerFragment(msg))
		return
	}
	title := map[int]string{401: "Sign in required", 403: "Not allowed", 404: "Not found", 413: "Too large", 429: "Too many attempts"}[status]
	if title == "" {
		title = "Something went wrong"
	}
	render(w, r, status, views.ErrorPage(shellFor(d, r, title, ""), status, msg), nil)
}

func bannerFragment(msg string) templ.Component {
	return views.ErrorBanner(msg)
}

// shellFor builds the page shell for the signed-in user, popping the flash.
func shellFor(d Deps, r *http.Request, title, active string) layout.Shell {
	s := layout.Shell{Title: title}
	u, ok := userFrom(r.Context())
	if !ok {
		return s
	}
	s.UserEmail, s.UserRole = u.Email, string(u.Role)
	s.Nav = navFor(u.Role, active)
	if text := d.Sessions.PopString(r.Context(), "flash"); text != "" {
		s.Flash = &layout.Flash{Kind: d.Sessions.PopString(r.Context(), "flash_kind"), Text: text}
	}
	return s
}

// flash stores a message for the next page.
func flash(d Deps, r *http.Request, kind, text string) {
	d.Sessions.Put(r.Context(), "flash", text)
	d.Sessions.Put(r.Context(), "flash_kind", kind)
}
