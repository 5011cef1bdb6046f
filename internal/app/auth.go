package app

import (
	"context"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// AuthDeps are the sign-in rules: hashing cost, throttle and the cap on
// concurrent password hashing. Zero values get the defaults.
type AuthDeps struct {
	Hashing  auth.Params
	Throttle auth.Throttle
	// Gate caps concurrent password hashing; nil shares one per process.
	Gate *auth.Gate
	// GateWait is how long a sign-in waits for a hashing slot (default 3 s).
	GateWait time.Duration
	// SessionLifetime bounds how long a session is remembered (default 12 h).
	SessionLifetime time.Duration
}

// defaultGate lets as many hashes run at once as there are CPUs.
var defaultGate = auth.NewGate(runtime.NumCPU())

func (a *App) authDeps() AuthDeps {
	d := a.Auth
	if d.Hashing == (auth.Params{}) {
		d.Hashing = auth.DefaultParams
	}
	if d.Throttle == (auth.Throttle{}) {
		d.Throttle = auth.DefaultThrottle
	}
	if d.Gate == nil {
		d.Gate = defaultGate
	}
	if d.GateWait == 0 {
		d.GateWait = 3 * time.Second
	}
	if d.SessionLifetime == 0 {
		d.SessionLifetime = 12 * time.Hour
	}
	return d
}

// Messages a person sees when signing in.
const (
	// MsgWrongLogin never tells whether the account exists.
	MsgWrongLogin = "Email or password is wrong."
	// MsgTooManyLogins is shown once the throttle refuses attempts.
	MsgTooManyLogins = "Too many failed sign-ins. Wait 15 minutes and try again, or ask an administrator to reset your password."
	// MsgLoginBusy is shown when every hashing slot stayed busy.
	MsgLoginBusy = "Sign-in is busy right now. Wait a few seconds and try again."
	// MsgLoginUnavailable is shown when sign-in failed on our side.
	MsgLoginUnavailable = "Sign-in is not working right now. This is not a wrong password: try again in a minute, and tell an administrator if it persists."
)

// SignInRequest is what a person typed, and where from.
type SignInRequest struct {
	Email, Password string
	// Addr is the client address, throttled separately from the account.
	Addr string
}

// SignIn checks an email and password under the throttle and, when they
// match, starts the session returned by newSession (the caller's fresh
// session token) for the user, with its audit event.
//
// The attempt is recorded under a per-account and per-address advisory lock
// before the password is checked, so at most Throttle.PerAccount passwords
// are ever checked per window however many requests arrive at once; the
// hashing itself runs under a small semaphore. Errors are apperrors:
// Unauthenticated (wrong email or password), TooMany (throttled),
// Unavailable (busy, or a failure on our side: never reported as a wrong
// password; the cause is wrapped for the log).
func (a *App) SignIn(ctx context.Context, req SignInRequest, newSession func(context.Context) (string, error)) (store.User, error) {
	d := a.authDeps()
	email := auth.NormaliseEmail(req.Email)
	if email == "" || req.Password == "" {
		return store.User{}, apperror.New(apperror.Rule, "Enter your email and password.")
	}
	unavailable := func(err error, what string) error {
		return apperror.Wrap(err, apperror.Unavailable, "%s", MsgLoginUnavailable+" ("+what+")")
	}
	acctKey, addrKey := auth.AccountKey(email), auth.AddressKey(req.Addr)

	// 1. Count and record the attempt, one account (and address) at a time.
	var attempt []int64
	blocked := false
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.LockLoginKeys(ctx, tx, acctKey, addrKey); err != nil {
			return err
		}
		since := a.Now().Add(-d.Throttle.Window)
		acct, err := store.CountLoginFailures(ctx, tx, acctKey, since)
		if err != nil {
			return err
		}
		addr, err := store.CountLoginFailures(ctx, tx, addrKey, since)
		if err != nil {
			return err
		}
		if blocked = d.Throttle.Blocked(acct, addr); blocked {
			return nil
		}
		attempt, err = store.RecordLoginAttempt(ctx, tx, acctKey, addrKey)
		return err
	})
	if err != nil {
		return store.User{}, unavailable(err, "recording the attempt")
	}
	if blocked {
		return store.User{}, apperror.New(apperror.TooMany, "%s", MsgTooManyLogins)
	}
	// forget drops the attempt when the outcome was not a wrong password.
	forget := func() {
		if err := store.ForgetLoginAttempt(context.WithoutCancel(ctx), a.Pool, attempt); err != nil {
			a.Logger.Error("sign-in: forget attempt", "err", err.Error())
		}
	}

	// 2. Check the password, with capped hashing concurrency.
	release, ok := d.Gate.Enter(ctx, d.GateWait)
	if !ok {
		forget()
		return store.User{}, apperror.New(apperror.Unavailable, "%s", MsgLoginBusy)
	}
	u, match, err := a.checkPassword(ctx, email, req.Password, d.Hashing)
	release()
	if err != nil {
		forget()
		return store.User{}, unavailable(err, "checking the password")
	}
	if !match {
		// The attempt stays recorded as a failure.
		if err := store.Audit(ctx, a.Pool, "anonymous", "login.failed", "user", "", nil, nil, ""); err != nil {
			return store.User{}, unavailable(err, "auditing a failed sign-in")
		}
		return store.User{}, apperror.New(apperror.Unauthenticated, "%s", MsgWrongLogin)
	}

	// 3. Start the session: bind it to the user, forget the failures, audit.
	token, err := newSession(ctx)
	if err != nil {
		forget()
		return store.User{}, unavailable(err, "starting the session")
	}
	err = a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.BindSession(ctx, tx, token, u, d.SessionLifetime); err != nil {
			return err
		}
		if err := store.ForgetLoginAttempt(ctx, tx, attempt); err != nil {
			return err
		}
		if err := store.ClearLoginFailures(ctx, tx, acctKey, a.Now().Add(-d.Throttle.Window)); err != nil {
			return err
		}
		return store.Audit(ctx, tx, User(u.ID).String(), "login", "user", itoaID(u.ID), nil, nil, "")
	})
	if apperror.CodeOf(err) == apperror.Unauthenticated {
		forget()
		return store.User{}, err
	}
	if err != nil {
		forget()
		return store.User{}, unavailable(err, "starting the session")
	}
	return u, nil
}

// checkPassword loads the user and verifies the password. match is false
// for an unknown or disabled account (after spending the same effort) and
// for a wrong password; err is a failure on our side.
func (a *App) checkPassword(ctx context.Context, email, password string, p auth.Params) (store.User, bool, error) {
	u, err := store.UserByEmail(ctx, a.Pool, email)
	if apperror.CodeOf(err) == apperror.NotFound || (err == nil && u.Disabled) {
		// Spend the same effort for unknown accounts.
		if _, err := auth.HashPassword(password, p); err != nil {
			return store.User{}, false, err
		}
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	ok, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return store.User{}, false, err
	}
	return u, ok, nil
}

// SignOut ends a session: it forgets the token's user and audits it. The
// caller destroys the session cookie whatever this returns.
func (a *App) SignOut(ctx context.Context, actor Actor, token string) error {
	return a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.UnbindSession(ctx, tx, token); err != nil {
			return err
		}
		if actor.UserID == 0 {
			return nil
		}
		return store.Audit(ctx, tx, actor.String(), "logout", "user", itoaID(actor.UserID), nil, nil, "")
	})
}

// SessionUser returns the signed-in user of a session token; NotFound when
// the session was ended (sign-out, or an admin changed the user) or the
// user is disabled.
func (a *App) SessionUser(ctx context.Context, token string, userID int64) (store.User, error) {
	u, err := store.SessionUser(ctx, a.Pool, token, userID)
	if err != nil {
		return u, err
	}
	if u.Disabled {
		return store.User{}, apperror.New(apperror.NotFound, "The session was not found.")
	}
	return u, nil
}

func itoaID(id int64) string { return strconv.FormatInt(id, 10) }
