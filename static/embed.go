// Package static embeds the CSS and JavaScript served under /static.
package static

import "embed"

// FS holds the built CSS and the vendored, pinned htmx.
//
//go:embed css/app.css js/*.js
var FS embed.FS
