package app

// EZPassDeps are the E-ZPass use cases' own dependencies.
type EZPassDeps struct {
	// Import are the import use cases' own (ezpass_import.go).
	Import EZPassImportDeps
	// Match is what association, posting and manual work need (ezpass_match.go).
	Match EZPassMatchDeps
}
