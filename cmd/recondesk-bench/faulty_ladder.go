package main

import (
	"context"
	"errors"
)

// faultyLadderBench measures this area against its baseline.
func faultyLadderBench(ctx context.Context, env Env) ([]Row, error) {
	return nil, errors.New("not built yet")
}
