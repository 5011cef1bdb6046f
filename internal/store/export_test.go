package store

// ApplySQL and StagingSQL expose the import's classification statement
// and its staging table to the tests of its plan.
var (
	ApplySQL   = applySQL
	StagingSQL = stagingSQL
)
