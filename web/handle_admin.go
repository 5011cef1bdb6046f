package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/go-chi/chi/v5"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/store"
	"recondesk/views/admin"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pathID reads a positive integer route parameter.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperror.New(apperror.NotFound, "There is nothing at %s.", r.URL.Path)
	}
	return id, nil
}

// userInput is the create-user form (kept for callers of the old name).
type userInput = app.NewUser

func handleUsers(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderUsers(d, w, r, http.StatusOK, admin.UserForm{Role: "viewer"})
	})
}

func renderUsers(d Deps, w http.ResponseWriter, r *http.Request, status int, f admin.UserForm) {
	users, err := store.ListUsers(r.Context(), d.Pool)
	if err != nil {
		fail(d, w, r, err)
		return
	}
	render(w, r, status, admin.UsersPage(shellFor(d, r, "Users", "Admin"), users, f, d.Mailbox), nil)
}

// actorOf is the signed-in user as the actor of a use case.
func actorOf(r *http.Request) app.Actor {
	u, _ := userFrom(r.Context())
	return app.User(u.ID)
}

func handleUserCreate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := app.NewUser{Email: auth.NormaliseEmail(r.PostFormValue("email")), Role: r.PostFormValue("role"), Password: r.PostFormValue("password")}
		_, err := d.App.CreateUser(r.Context(), actorOf(r), in, "")
		var e *apperror.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			renderUsers(d, w, r, http.StatusUnprocessableEntity, admin.UserForm{Email: in.Email, Role: in.Role, Errors: e.Fields})
			return
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", "User "+in.Email+" added.")
		redirect(w, r, "/admin/users")
	})
}

// handleUser is one user's page: access, password reset and API tokens.
func handleUser(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		u, err := d.App.UserDetail(r.Context(), id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, admin.UserPage(shellFor(d, r, u.User.Email, "Admin"), u.User, u.Tokens, d.Mailbox), nil)
	})
}

// back returns to the page the admin came from: the user's page or the list.
func back(r *http.Request, id int64) string {
	if r.PostFormValue("back") == "user" {
		return "/admin/users/" + itoa(id)
	}
	return "/admin/users"
}

func handleUserUpdate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		ch := app.UserChange{Role: auth.Role(r.PostFormValue("role")), Disabled: r.PostFormValue("disabled") == "1"}
		if _, err := d.App.UpdateUser(r.Context(), actorOf(r), id, ch); err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", "User saved.")
		redirect(w, r, back(r, id))
	})
}

func handleUserPassword(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		if err := d.App.ResetPassword(r.Context(), actorOf(r), id, r.PostFormValue("password")); err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", "Password reset; the user's sessions have ended.")
		redirect(w, r, back(r, id))
	})
}

func handleUserTokensRevoke(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		n, err := d.App.RevokeAllTokens(r.Context(), actorOf(r), id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", fmt.Sprintf("%d API token(s) revoked.", n))
		redirect(w, r, "/admin/users/"+itoa(id))
	})
}

func handleTokens(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderTokens(d, w, r, "")
	})
}

func renderTokens(d Deps, w http.ResponseWriter, r *http.Request, newToken string) {
	tokens, err := store.ListAPITokens(r.Context(), d.Pool)
	if err != nil {
		fail(d, w, r, err)
		return
	}
	users, err := store.ListUsers(r.Context(), d.Pool)
	if err != nil {
		fail(d, w, r, err)
		return
	}
	render(w, r, http.StatusOK, admin.TokensPage(shellFor(d, r, "API tokens", "Admin"), tokens, users, newToken, d.Mailbox), nil)
}

// handleTokenCreate shows the new token in its response (not after a
// redirect): it is shown once and never stored, not even in the session.
func handleTokenCreate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userID, _ := strconv.ParseInt(r.PostFormValue("user_id"), 10, 64)
		res, err := d.App.CreateToken(r.Context(), actorOf(r), userID, r.PostFormValue("name"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		renderTokens(d, w, r, res.Token)
	})
}

func handleTokenRevoke(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		if err := d.App.RevokeToken(r.Context(), actorOf(r), id); err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", "Token revoked.")
		redirect(w, r, "/admin/tokens")
	})
}

func handleAudit(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		in := admin.AuditQuery{Actor: q.Get("actor"), Action: q.Get("action"), SubjectType: q.Get("subject_type"),
			SubjectID: q.Get("subject_id"), From: q.Get("from"), To: q.Get("to")}
		f := store.AuditFilter{Actor: in.Actor, Action: in.Action, SubjectType: in.SubjectType, SubjectID: in.SubjectID, Limit: 200}
		var err error
		if in.From != "" {
			if f.From, err = time.Parse("2006-01-02", in.From); err != nil {
				fail(d, w, r, apperror.New(apperror.Invalid, "'From' must be a date like 2026-01-31."))
				return
			}
		}
		if in.To != "" {
			if f.To, err = time.Parse("2006-01-02", in.To); err != nil {
				fail(d, w, r, apperror.New(apperror.Invalid, "'To' must be a date like 2026-01-31."))
				return
			}
			f.To = f.To.AddDate(0, 0, 1)
		}
		events, err := store.ListAudit(r.Context(), d.Pool, f)
		if err == nil {
			err = store.LabelAudit(r.Context(), d.Pool, events, displayTZ(d))
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, admin.AuditPage(shellFor(d, r, "Audit log", "Admin"), in, events, d.Mailbox), nil)
	})
}

// pgxTx shortens transaction callbacks.
type pgxTx = pgx.Tx
