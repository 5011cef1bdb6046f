package web

import (
	"net/http"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/store"
	viewauth "recondesk/views/auth"
)

// genericLoginError never tells whether the account exists.
const genericLoginError = "Email or password is wrong."

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

func handleLogin(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		email := auth.NormaliseEmail(r.PostFormValue("email"))
		password := r.PostFormValue("password")
		form := viewauth.LoginForm{Email: email, Next: safeNext(r.PostFormValue("next"))}
		again := func(status int, msg string) {
			form.Error = msg
			render(w, r, status, viewauth.LoginPage(shellFor(d, r, "Sign in", ""), form), viewauth.LoginFragment(form))
		}
		if email == "" || password == "" {
			again(http.StatusUnprocessableEntity, "Enter your email and password.")
			return
		}
		since := d.Now().Add(-d.Throttle.Window)
		acct, err1 := store.CountLoginFailures(ctx, d.Pool, auth.AccountKey(email), since)
		addr, err2 := store.CountLoginFailures(ctx, d.Pool, auth.AddressKey(clientAddr(r)), since)
		if err1 != nil || err2 != nil {
			fail(d, w, r, apperror.Wrap(firstErr(err1, err2), apperror.Internal, "count sign-in failures"))
			return
		}
		if d.Throttle.Blocked(acct, addr) {
			w.Header().Set("Retry-After", "900")
			again(http.StatusTooManyRequests, "Too many failed sign-ins. Wait 15 minutes and try again, or ask an administrator to reset your password.")
			return
		}
		u, err := store.UserByEmail(ctx, d.Pool, email)
		ok := false
		if err == nil && !u.Disabled {
			ok, err = auth.VerifyPassword(u.PasswordHash, password)
		} else {
			// Spend the same effort for unknown accounts.
			_, _ = auth.HashPassword(password, d.Hashing)
		}
		if !ok {
			if err := store.RecordLoginFailure(ctx, d.Pool, auth.AccountKey(email), auth.AddressKey(clientAddr(r))); err != nil {
				fail(d, w, r, err)
				return
			}
			_ = store.Audit(ctx, d.Pool, "anonymous", "login.failed", "user", "", nil, nil, "")
			again(http.StatusUnauthorized, genericLoginError)
			return
		}
		if err := d.Sessions.RenewToken(ctx); err != nil {
			fail(d, w, r, err)
			return
		}
		d.Sessions.Put(ctx, "user_id", u.ID)
		_ = store.ClearLoginFailures(ctx, d.Pool, auth.AccountKey(email), since)
		if err := store.Audit(ctx, d.Pool, store.UserActor(u.ID), "login", "user", itoa(u.ID), nil, nil, ""); err != nil {
			fail(d, w, r, err)
			return
		}
		redirect(w, r, form.Next)
	})
}

func handleLogout(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := userFrom(r.Context()); ok {
			_ = store.Audit(r.Context(), d.Pool, store.UserActor(u.ID), "logout", "user", itoa(u.ID), nil, nil, "")
		}
		if err := d.Sessions.Destroy(r.Context()); err != nil {
			fail(d, w, r, err)
			return
		}
		if err := d.Sessions.RenewToken(r.Context()); err != nil {
			fail(d, w, r, err)
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
