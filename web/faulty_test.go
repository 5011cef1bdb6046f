package web

// faultyMatrix lists the faulty-bookings routes: partners, queue, ingestion
// (faulty_pipeline_test.go) and batches, emails, API (faulty_ladder_test.go).
var faultyMatrix = append(append([]access{}, faultyPipelineMatrix...), faultyLadderMatrix...)
