package app

// EZPassDeps are the E-ZPass use cases' own dependencies.
type EZPassDeps struct{}
