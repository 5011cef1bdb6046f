package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/config"
	"recondesk/internal/store"
)

// cmdUser handles `user add --email E --role R` (password on stdin).
func cmdUser(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: recondesk user add --email E --role viewer|finance|admin (password on stdin)")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email")
	roleName := fs.String("role", "viewer", "viewer, finance or admin")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	role, err := auth.ParseRole(*roleName)
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	if msg := auth.CheckPasswordPolicy(password); msg != "" {
		return fmt.Errorf("password on stdin refused: %s", msg)
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	a := app.New(app.Deps{Pool: pool, Config: cfg})
	u, err := a.CreateUser(ctx, app.System("cli"), app.NewUser{Email: *email, Role: string(role), Password: password}, "created with recondesk user add")
	var e *apperror.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		var msgs []string
		for _, k := range []string{"email", "role", "password"} {
			if m := e.Fields[k]; m != "" {
				msgs = append(msgs, k+": "+m)
			}
		}
		return fmt.Errorf("user refused: %s", strings.Join(msgs, "; "))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %d %s (%s)\n", u.ID, u.Email, u.Role)
	return nil
}
