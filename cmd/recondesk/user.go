package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

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
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		return err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	var u store.User
	err = store.InTx(ctx, pool, func(tx pgxTx) error {
		u, err = store.CreateUser(ctx, tx, *email, role, hash)
		if err != nil {
			return err
		}
		return store.Audit(ctx, tx, "system:cli", "user.create", "user", fmt.Sprint(u.ID), nil,
			map[string]any{"email": u.Email, "role": u.Role}, "created with recondesk user add")
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %d %s (%s)\n", u.ID, u.Email, u.Role)
	return nil
}
