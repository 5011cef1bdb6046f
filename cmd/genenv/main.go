// Command genenv writes .env.example from internal/config (make generate).
package main

import (
	"fmt"
	"os"

	"recondesk/internal/config"
)

func main() {
	if err := os.WriteFile(".env.example", []byte(config.EnvExample()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genenv:", err)
		os.Exit(1)
	}
}
