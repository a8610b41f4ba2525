package catalog

import "strings"

// SearchDocument is what text search holds of an entity: the fields it
// matches, weighted in that order (a word in the name counts most, one
// in the description least). The fields follow Backstage's catalog
// collator, so that an entity is found by what Backstage finds it by:
// the title (metadata.title, else the name), the description with a
// User's or Group's display name and email, and its kind, type,
// lifecycle, owner, system and tags, which a search can also be filtered
// by.
type SearchDocument struct {
	Name     string // metadata.name
	Title    string // metadata.title, else metadata.name
	Keywords string // kind, spec.type, spec.lifecycle, spec.owner, spec.system, tags
	Text     string // description, profile.displayName, profile.email
}

// SearchDocument returns what text search holds of e.
func (e *Entity) SearchDocument() SearchDocument {
	md := &e.Metadata
	title := md.Title
	if title == "" {
		title = md.Name
	}
	keywords := []string{e.Kind}
	for _, k := range []string{"type", "lifecycle", "owner", "system"} {
		if v := e.SpecString(k); v != "" {
			keywords = append(keywords, v)
		}
	}
	keywords = append(keywords, md.Tags...)
	var text []string
	if md.Description != "" {
		text = append(text, md.Description)
	}
	if p, ok := e.Spec["profile"].(map[string]any); ok {
		for _, k := range []string{"displayName", "email"} {
			if v, ok := p[k].(string); ok && v != "" {
				text = append(text, v)
			}
		}
	}
	return SearchDocument{Name: md.Name, Title: title, Keywords: strings.Join(keywords, " "), Text: strings.Join(text, " : ")}
}
