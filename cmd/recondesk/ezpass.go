package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
)

const ezpassUsage = "usage: recondesk ezpass import FILE [--account A] | associate | post"

// cmdEZPass dispatches `ezpass import|associate|post`.
func cmdEZPass(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(ezpassUsage)
	}
	switch args[0] {
	case "import":
		return cmdEZPassImport(ctx, cfg, log, args[1:], stdout)
	case "associate":
		return cmdEZPassAssociate(ctx, cfg, log, args[1:], stdout)
	case "post":
		return cmdEZPassPost(ctx, cfg, log, args[1:], stdout)
	}
	return errors.New(ezpassUsage)
}
