package main

import (
	"context"
	"errors"
)

// ezpassMatchBench measures this area against its baseline.
func ezpassMatchBench(ctx context.Context, env Env) ([]Row, error) {
	return nil, errors.New("not built yet")
}
