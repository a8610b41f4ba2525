// Package schema holds Greenroom's GraphQL schema, the contract from which
// graph/ is generated, and serves its SDL to federation gateways.
package schema

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed *.graphqls
var files embed.FS

// machinery is the file that declares the federation subgraph machinery;
// gateways add it themselves, so it is left out of [SDL].
const machinery = "federation.graphqls"

// SDL returns the subgraph schema as a federation gateway expects it from
// `_service { sdl }`: every schema file but the federation machinery.
func SDL() string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err) // the files are embedded at build time
	}
	var sb strings.Builder
	for _, e := range entries {
		if e.Name() == machinery {
			continue
		}
		b, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		sb.Write(b)
		sb.WriteString("\n")
	}
	return sb.String()
}
