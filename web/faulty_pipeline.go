package web

// FaultyPipelineDeps are what the partner, queue and ingestion pages need.
type FaultyPipelineDeps struct{}
