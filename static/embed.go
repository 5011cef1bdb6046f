// Package static embeds the CSS and JavaScript served under /static.
package static

import "embed"

// FS holds the built CSS, the vendored, pinned htmx and the favicon.
//
//go:embed css/app.css js/*.js img/*.svg
var FS embed.FS
