package main

import (
	"context"
	"errors"
)

// ezpassImportBench measures this area against its baseline.
func ezpassImportBench(ctx context.Context, env Env) ([]Row, error) {
	return nil, errors.New("not built yet")
}
