package app

import (
	"context"
	"net/mail"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// userAudit is what the audit log keeps of a user (never the password hash).
type userAudit struct {
	Email    string    `json:"email"`
	Role     auth.Role `json:"role"`
	Disabled bool      `json:"disabled"`
}

func auditOfUser(u store.User) userAudit { return userAudit{u.Email, u.Role, u.Disabled} }

// NewUser is the create-user form.
type NewUser struct {
	Email, Role, Password string
}

// Validate returns a message per invalid field.
func (in NewUser) Validate() map[string]string {
	errs := map[string]string{}
	email := auth.NormaliseEmail(in.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
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

// CreateUser adds a user. Invalid fields and a taken email are an Invalid
// error with per-field messages.
func (a *App) CreateUser(ctx context.Context, actor Actor, in NewUser, reason string) (store.User, error) {
	in.Email = auth.NormaliseEmail(in.Email)
	if errs := in.Validate(); len(errs) > 0 {
		return store.User{}, apperror.FieldErrors(errs)
	}
	hash, err := auth.HashPassword(in.Password, a.authDeps().Hashing)
	if err != nil {
		return store.User{}, err
	}
	var u store.User
	err = a.inTx(ctx, func(tx pgx.Tx) error {
		if u, err = store.CreateUser(ctx, tx, in.Email, auth.Role(in.Role), hash); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "user.create", "user", itoaID(u.ID), nil, auditOfUser(u), reason)
	})
	if apperror.CodeOf(err) == apperror.Conflict {
		return store.User{}, apperror.FieldErrors(map[string]string{"email": apperror.MessageOf(err)})
	}
	return u, err
}

// UserChange is an admin's edit of a user's access.
type UserChange struct {
	Role     auth.Role
	Disabled bool
}

// UpdateUser changes a user's role and disabled flag. When either changes,
// the user's sessions end in the same transaction. At least one enabled
// admin always remains.
func (a *App) UpdateUser(ctx context.Context, actor Actor, id int64, ch UserChange) (store.User, error) {
	if _, err := auth.ParseRole(string(ch.Role)); err != nil {
		return store.User{}, apperror.New(apperror.Invalid, "Choose viewer, finance or admin.")
	}
	var after store.User
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		before, err := store.UserByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if after, err = store.UpdateUser(ctx, tx, id, ch.Role, ch.Disabled); err != nil {
			return err
		}
		n, err := store.CountAdmins(ctx, tx)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperror.New(apperror.Rule, "Keep at least one enabled admin.")
		}
		if before.Role != after.Role || before.Disabled != after.Disabled {
			if _, err := store.EndUserSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		return store.Audit(ctx, tx, actor.String(), "user.update", "user", itoaID(id), auditOfUser(before), auditOfUser(after), "")
	})
	return after, err
}

// ResetPassword sets a user's new password and ends the user's sessions,
// in one transaction.
func (a *App) ResetPassword(ctx context.Context, actor Actor, id int64, password string) error {
	if msg := auth.CheckPasswordPolicy(password); msg != "" {
		return apperror.New(apperror.Rule, "The new password was not accepted: %s", msg)
	}
	hash, err := auth.HashPassword(password, a.authDeps().Hashing)
	if err != nil {
		return err
	}
	return a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.SetUserPassword(ctx, tx, id, hash); err != nil {
			return err
		}
		ended, err := store.EndUserSessions(ctx, tx, id)
		if err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "user.password_reset", "user", itoaID(id), nil,
			map[string]any{"sessions_ended": ended}, "")
	})
}

// NewTokenResult is a created API token: Token is shown once, never stored.
type NewTokenResult struct {
	ID     int64
	Token  string
	Prefix string
}

// CreateToken creates an API token for a user.
func (a *App) CreateToken(ctx context.Context, actor Actor, userID int64, name string) (NewTokenResult, error) {
	if userID <= 0 || name == "" {
		return NewTokenResult{}, apperror.New(apperror.Invalid, "Choose a user and name the token.")
	}
	token, hash, prefix, err := auth.NewToken()
	if err != nil {
		return NewTokenResult{}, err
	}
	res := NewTokenResult{Token: token, Prefix: prefix}
	err = a.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := store.UserByID(ctx, tx, userID); err != nil {
			return err
		}
		if res.ID, err = store.CreateAPIToken(ctx, tx, userID, name, prefix, hash, actor.UserID); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "api_token.create", "api_token", itoaID(res.ID), nil,
			map[string]any{"user_id": userID, "name": name, "prefix": prefix}, "")
	})
	return res, err
}

// RevokeToken revokes one API token.
func (a *App) RevokeToken(ctx context.Context, actor Actor, id int64) error {
	return a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.RevokeAPIToken(ctx, tx, id); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "api_token.revoke", "api_token", itoaID(id), nil, nil, "")
	})
}

// RevokeAllTokens revokes every live API token of a user and returns how
// many it revoked.
func (a *App) RevokeAllTokens(ctx context.Context, actor Actor, userID int64) (int64, error) {
	var n int64
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := store.UserByID(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		if n, err = store.RevokeUserAPITokens(ctx, tx, userID); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "api_token.revoke_all", "user", itoaID(userID), nil,
			map[string]any{"revoked": n}, "")
	})
	return n, err
}

// UserDetail is what the admin's page of one user shows.
type UserDetail struct {
	User   store.User
	Tokens []store.APIToken
}

// UserDetail loads a user with their API tokens.
func (a *App) UserDetail(ctx context.Context, id int64) (UserDetail, error) {
	u, err := store.UserByID(ctx, a.Pool, id)
	if err != nil {
		return UserDetail{}, err
	}
	toks, err := store.ListUserAPITokens(ctx, a.Pool, id)
	return UserDetail{User: u, Tokens: toks}, err
}
