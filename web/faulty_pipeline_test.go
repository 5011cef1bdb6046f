package web

// faultyPipelineMatrix lists the partner, queue and ingestion routes.
var faultyPipelineMatrix = []access{}
