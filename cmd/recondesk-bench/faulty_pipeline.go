package main

import (
	"context"
	"errors"
)

// faultyPipelineBench measures this area against its baseline.
func faultyPipelineBench(ctx context.Context, env Env) ([]Row, error) {
	return nil, errors.New("not built yet")
}
