package server

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
)

// graphiqlFiles is GraphiQL and React, served from the binary so that
// GraphiQL works without internet access. The large bundles are stored
// gzip-compressed (see scripts/graphiql-assets.sh).
//
//go:embed graphiql
var graphiqlFiles embed.FS

// graphiqlPage serves GraphiQL's page at /.
func graphiqlPage(w http.ResponseWriter, r *http.Request) {
	b, err := graphiqlFiles.ReadFile("graphiql/index.html")
	if err != nil {
		http.Error(w, "GraphiQL is missing from this build", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// favicon serves the icon browsers ask for at /favicon.ico, so that
// opening GraphiQL does not log a 404. It is an SVG, which browsers take
// whatever the name says.
func favicon(w http.ResponseWriter, r *http.Request) {
	b, err := graphiqlFiles.ReadFile("graphiql/favicon.svg")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
}

// graphiqlAsset serves /graphiql/{name}: the file itself, or its .gz form
// with Content-Encoding gzip (decompressed here for the rare client that
// does not accept gzip).
func graphiqlAsset(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.PathValue("name"))
	if strings.HasPrefix(name, "LICENSE") || name == "index.html" {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	if b, err := graphiqlFiles.ReadFile("graphiql/" + name); err == nil {
		w.Write(b)
		return
	}
	gz, err := graphiqlFiles.ReadFile("graphiql/" + name + ".gz")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		http.Error(w, "corrupt asset", http.StatusInternalServerError)
		return
	}
	io.Copy(w, zr)
}
