package main

import (
	"context"
)

// faultyBench runs the faulty-bookings measures: the pipeline's
// (faulty_pipeline.go) then the ladder's (faulty_ladder.go).
func faultyBench(ctx context.Context, env Env) ([]Row, error) {
	rows, err := faultyPipelineBench(ctx, env)
	if err != nil {
		return nil, err
	}
	more, err := faultyLadderBench(ctx, env)
	return append(rows, more...), err
}
