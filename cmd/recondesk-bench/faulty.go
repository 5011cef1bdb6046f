package main

import (
	"context"
	"errors"
)

// faultyBench measures this area against its baseline.
func faultyBench(ctx context.Context, env Env) ([]Row, error) {
	return nil, errors.New("not built yet")
}
