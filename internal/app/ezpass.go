package app

// EZPassDeps are the E-ZPass use cases' own dependencies.
type EZPassDeps struct {
	// Match is what association, posting and manual work need (ezpass_match.go).
	Match EZPassMatchDeps
}
