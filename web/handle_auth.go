package web

import (
	"context"
	"net/http"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	viewauth "recondesk/views/auth"
)

// genericLoginError never tells whether the account exists.
const genericLoginError = app.MsgWrongLogin

func handleLoginPage(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := userFrom(r.Context()); ok {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		f := viewauth.LoginForm{Next: safeNext(r.URL.Query().Get("next"))}
		render(w, r, http.StatusOK, viewauth.LoginPage(shellFor(d, r, "Sign in", ""), f), viewauth.LoginFragment(f))
	})
}

// handleLogin is a shell around app.SignIn: every outcome, including a
// failure on our side, re-renders the form with its message.
func handleLogin(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		form := viewauth.LoginForm{Email: auth.NormaliseEmail(r.PostFormValue("email")), Next: safeNext(r.PostFormValue("next"))}
		newSession := func(ctx context.Context) (string, error) {
			if err := d.Sessions.RenewToken(ctx); err != nil {
				return "", err
			}
			return d.Sessions.Token(ctx), nil
		}
		u, err := d.App.SignIn(ctx, app.SignInRequest{Email: form.Email, Password: r.PostFormValue("password"), Addr: clientAddr(r)}, newSession)
		if err != nil {
			status := apperror.Status(err)
			if status >= 500 {
				d.Logger.Error("sign-in failed", "request_id", RequestIDFrom(ctx), "err", err.Error())
			}
			switch apperror.CodeOf(err) {
			case apperror.TooMany:
				w.Header().Set("Retry-After", "900")
			case apperror.Unavailable:
				w.Header().Set("Retry-After", "5")
			}
			form.Error = apperror.MessageOf(err)
			render(w, r, status, viewauth.LoginPage(shellFor(d, r, "Sign in", ""), form), viewauth.LoginFragment(form))
			return
		}
		d.Sessions.Put(ctx, "user_id", u.ID)
		redirect(w, r, form.Next)
	})
}

// handleLogout ends the session whatever happens; when recording it fails,
// the person is told so after the session has ended.
func handleLogout(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var actor app.Actor
		if u, ok := userFrom(ctx); ok {
			actor = app.User(u.ID)
		}
		signOutErr := d.App.SignOut(ctx, actor, d.Sessions.Token(ctx))
		if err := d.Sessions.Destroy(ctx); err != nil {
			fail(d, w, r, err)
			return
		}
		if err := d.Sessions.RenewToken(ctx); err != nil {
			fail(d, w, r, err)
			return
		}
		if signOutErr != nil {
			fail(d, w, r, apperror.Wrap(signOutErr, apperror.Unavailable,
				"You are signed out, but recording the sign-out in the audit log failed. It has been logged; tell an administrator if it keeps happening."))
			return
		}
		redirect(w, r, "/login")
	})
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
