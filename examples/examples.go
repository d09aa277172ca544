// Package examples embeds the example spiders shipped with trawl, so that
// `trawl demo` and the docs use the same files users read in examples/.
package examples

import "embed"

// FS holds every example spider (*.yaml) at its root, e.g. "quotes.yaml".
//
//go:embed *.yaml
var FS embed.FS
