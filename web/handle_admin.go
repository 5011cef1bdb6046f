package web

import (
	"github.com/jackc/pgx/v5"
	"net/http"
	"net/mail"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

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

// userAudit is what the audit log keeps of a user (never the password hash).
type userAudit struct {
	Email    string    `json:"email"`
	Role     auth.Role `json:"role"`
	Disabled bool      `json:"disabled"`
}

func auditOf(u store.User) userAudit { return userAudit{u.Email, u.Role, u.Disabled} }

// userInput is the create-user form.
type userInput struct {
	Email, Role, Password string
}

// Validate returns a message per invalid field.
func (in userInput) Validate() map[string]string {
	errs := map[string]string{}
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
		errs["email"] = "Enter an email address like name@example.com."
	}
	if _, err := auth.ParseRole(in.Role); err != nil {
		errs["role"] = "Choose viewer, finance or admin."
	}
	if msg := auth.CheckPasswordPolicy(in.Password); msg != "" {
		errs["password"] = msg
	}
	return errs
}

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

func handleUserCreate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me, _ := userFrom(r.Context())
		in := userInput{Email: auth.NormaliseEmail(r.PostFormValue("email")), Role: r.PostFormValue("role"), Password: r.PostFormValue("password")}
		if errs := in.Validate(); len(errs) > 0 {
			renderUsers(d, w, r, http.StatusUnprocessableEntity, admin.UserForm{Email: in.Email, Role: in.Role, Errors: errs})
			return
		}
		hash, err := auth.HashPassword(in.Password, d.Hashing)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		err = store.InTx(r.Context(), d.Pool, func(tx pgxTx) error {
			u, err := store.CreateUser(r.Context(), tx, in.Email, auth.Role(in.Role), hash)
			if err != nil {
				return err
			}
			return store.Audit(r.Context(), tx, store.UserActor(me.ID), "user.create", "user", itoa(u.ID), nil, auditOf(u), "")
		})
		if apperror.CodeOf(err) == apperror.Conflict {
			renderUsers(d, w, r, http.StatusUnprocessableEntity, admin.UserForm{Email: in.Email, Role: in.Role, Errors: map[string]string{"email": apperror.MessageOf(err)}})
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

func handleUserUpdate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me, _ := userFrom(r.Context())
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		role, err := auth.ParseRole(r.PostFormValue("role"))
		if err != nil {
			fail(d, w, r, apperror.New(apperror.Invalid, "Choose viewer, finance or admin."))
			return
		}
		disabled := r.PostFormValue("disabled") == "1"
		err = store.InTx(r.Context(), d.Pool, func(tx pgxTx) error {
			before, err := store.UserByID(r.Context(), tx, id)
			if err != nil {
				return err
			}
			after, err := store.UpdateUser(r.Context(), tx, id, role, disabled)
			if err != nil {
				return err
			}
			if n, err := store.CountAdmins(r.Context(), tx); err != nil || n == 0 {
				return firstErr(err, apperror.New(apperror.Rule, "Keep at least one enabled admin."))
			}
			return store.Audit(r.Context(), tx, store.UserActor(me.ID), "user.update", "user", itoa(id), auditOf(before), auditOf(after), "")
		})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", "User saved.")
		redirect(w, r, "/admin/users")
	})
}

func handleUserPassword(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me, _ := userFrom(r.Context())
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		pw := r.PostFormValue("password")
		if msg := auth.CheckPasswordPolicy(pw); msg != "" {
			fail(d, w, r, apperror.New(apperror.Rule, "The new password was not accepted: %s", msg))
			return
		}
		hash, err := auth.HashPassword(pw, d.Hashing)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		err = store.InTx(r.Context(), d.Pool, func(tx pgxTx) error {
			if err := store.SetUserPassword(r.Context(), tx, id, hash); err != nil {
				return err
			}
			return store.Audit(r.Context(), tx, store.UserActor(me.ID), "user.password_reset", "user", itoa(id), nil, nil, "")
		})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", "Password reset.")
		redirect(w, r, "/admin/users")
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
		me, _ := userFrom(r.Context())
		userID, err := strconv.ParseInt(r.PostFormValue("user_id"), 10, 64)
		name := r.PostFormValue("name")
		if err != nil || name == "" {
			fail(d, w, r, apperror.New(apperror.Invalid, "Choose a user and name the token."))
			return
		}
		token, hash, prefix, err := auth.NewToken()
		if err != nil {
			fail(d, w, r, err)
			return
		}
		err = store.InTx(r.Context(), d.Pool, func(tx pgxTx) error {
			if _, err := store.UserByID(r.Context(), tx, userID); err != nil {
				return err
			}
			id, err := store.CreateAPIToken(r.Context(), tx, userID, name, prefix, hash, me.ID)
			if err != nil {
				return err
			}
			return store.Audit(r.Context(), tx, store.UserActor(me.ID), "api_token.create", "api_token", itoa(id), nil,
				map[string]any{"user_id": userID, "name": name, "prefix": prefix}, "")
		})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		renderTokens(d, w, r, token)
	})
}

func handleTokenRevoke(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me, _ := userFrom(r.Context())
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		err = store.InTx(r.Context(), d.Pool, func(tx pgxTx) error {
			if err := store.RevokeAPIToken(r.Context(), tx, id); err != nil {
				return err
			}
			return store.Audit(r.Context(), tx, store.UserActor(me.ID), "api_token.revoke", "api_token", itoa(id), nil, nil, "")
		})
		if err != nil {
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
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, admin.AuditPage(shellFor(d, r, "Audit log", "Admin"), in, events, d.Mailbox), nil)
	})
}

// pgxTx shortens transaction callbacks.
type pgxTx = pgx.Tx
