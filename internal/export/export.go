// Package export writes the catalog as descriptor files that ingestion
// reads back: greenroom export's backups and migrations.
//
// Each entity is written as its author would have written it: what the
// catalog adds is left out (metadata.uid and metadata.etag, relations,
// status, the backstage.io/orphan annotation), so the file is valid input
// for Greenroom and for Backstage alike, and ingesting it gives back the
// same entities with the same relations. Two kinds of entity are not
// written: Location entities, which would send ingestion back to the files
// and URLs they name (the entities those emitted are in the export
// already), and orphans, which no location emits any more. The
// backstage.io/managed-by-* annotations are kept, as a record of where
// each entity came from; ingestion sets them afresh.
//
// Entities are read and written a page at a time, in ref order, so memory
// stays flat whatever the catalog's size. Key order is kept: an entity's
// stored JSON is decoded into a yaml.Node, never into a map.
package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Format is how entities are written.
type Format string

// The formats.
const (
	// YAML writes one YAML document per entity, separated by "---".
	YAML Format = "yaml"
	// NDJSON writes one JSON object per line. Ingestion reads a file
	// named *.ndjson or *.jsonl this way.
	NDJSON Format = "ndjson"
)

// Source is where entities are read from: the store.
type Source interface {
	// ScanEntities returns, in ref order, up to limit of the entities f
	// selects whose ref sorts after after.
	ScanEntities(ctx context.Context, f catalog.EntityFilter, after string, limit int) ([]*catalog.Record, []catalog.RelationRow, error)
}

// pageSize is how many entities are read at a time.
const pageSize = 1000

// Written returns the filter of the entities an export writes: not
// Location entities, not orphans.
func Written() catalog.EntityFilter {
	no := false
	return catalog.EntityFilter{Orphan: &no, Not: &catalog.EntityFilter{Kinds: []string{"Location"}}}
}

// Write writes every entity of src that [Written] selects to w in format,
// and returns how many it wrote.
func Write(ctx context.Context, w io.Writer, src Source, format Format) (int, error) {
	if format != YAML && format != NDJSON {
		return 0, fmt.Errorf("export: unknown format %q; want yaml or ndjson", format)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	n, after := 0, ""
	for {
		recs, _, err := src.ScanEntities(ctx, Written(), after, pageSize)
		if err != nil {
			return n, err
		}
		for _, rec := range recs {
			doc, err := Descriptor(rec.Data)
			if err != nil {
				return n, fmt.Errorf("export: %s: %w", rec.Ref, err)
			}
			if format == NDJSON {
				b := appendJSON(nil, doc)
				bw.Write(append(b, '\n'))
			} else {
				bw.WriteString("---\n")
				enc := yaml.NewEncoder(bw)
				enc.SetIndent(2)
				if err := enc.Encode(doc); err != nil {
					return n, fmt.Errorf("export: %s: %w", rec.Ref, err)
				}
				enc.Close()
			}
			n++
		}
		if len(recs) < pageSize {
			break
		}
		after = recs[len(recs)-1].Ref
	}
	return n, bw.Flush()
}

// Descriptor returns the entity in data (stored JSON) as its author would
// write it, as a YAML node in block style with the stored key order.
func Descriptor(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the stored entity is not an object")
	}
	root := doc.Content[0]
	remove(root, "relations", "status")
	if meta := get(root, "metadata"); meta != nil {
		remove(meta, "uid", "etag")
		if ann := get(meta, "annotations"); ann != nil {
			remove(ann, catalog.AnnotationOrphan)
		}
	}
	block(root)
	return root, nil
}

// get returns the value of key in the mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// remove deletes keys from the mapping m.
func remove(m *yaml.Node, keys ...string) {
	if m.Kind != yaml.MappingNode {
		return
	}
	out := m.Content[:0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		drop := false
		for _, k := range keys {
			drop = drop || m.Content[i].Value == k
		}
		if !drop {
			out = append(out, m.Content[i], m.Content[i+1])
		}
	}
	m.Content = out
}

// block turns JSON's flow style into YAML's block style. Strings lose
// their quotes; the encoder puts them back where a plain scalar would
// read as another type ("true", "1.0"), and writes multi-line strings as
// literal blocks.
func block(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		n.Style = 0
		for _, c := range n.Content {
			block(c)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			n.Style = 0
		}
	}
}

// appendJSON writes the node decoded from JSON back as compact JSON, in
// its order.
func appendJSON(dst []byte, n *yaml.Node) []byte {
	switch n.Kind {
	case yaml.MappingNode:
		dst = append(dst, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, n.Content[i].Value)
			dst = append(dst, ':')
			dst = appendJSON(dst, n.Content[i+1])
		}
		return append(dst, '}')
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, c := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, c)
		}
		return append(dst, ']')
	}
	switch n.Tag {
	case "!!int", "!!float", "!!bool", "!!null":
		return append(dst, n.Value...) // as JSON wrote it
	}
	return appendString(dst, n.Value)
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}
