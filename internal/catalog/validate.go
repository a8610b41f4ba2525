package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a document. Path is the dotted path of the
// offending field ("metadata.tags.1", "spec.owner"), or "" for the whole
// document; callers use it to point at a line.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) Error() string { return p.Message }

// fieldProblem says that the value at path is not what it should be, in the
// words Backstage's FieldFormatEntityPolicy uses.
func fieldProblem(path string, value any, expected string) Problem {
	return Problem{Path: path, Message: fmt.Sprintf("%q is not valid; expected %s but found %s", path, expected, describe(value))}
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func indexPath(path string, i int) string { return path + "." + strconv.Itoa(i) }

// rootKeys are the only root keys an ingested document may carry; Backstage
// rejects relations and status, which only the catalog itself writes.
var rootKeys = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true}

// Parse validates one decoded descriptor document and converts it to an
// [Entity]. It applies Backstage's entity policies in their order: envelope,
// default namespace, no foreign root fields, field formats, then the kind's
// spec rules.
//
// The entity is returned whenever its envelope (apiVersion, kind, namespace
// and name) is valid, even if other problems are reported, so that callers
// can attach errors to it; it is nil when the document cannot be named, or
// when any of its strings, keys included, is not [IsStorableText]: such a
// document is refused whole, as no version of it can be stored.
func Parse(doc map[string]any) (*Entity, []Problem) {
	if problems := textProblems(doc); len(problems) > 0 {
		return nil, problems
	}
	e, problems := fromDoc(doc)
	if e == nil {
		return nil, problems
	}
	for key := range doc {
		if !rootKeys[key] {
			problems = append(problems, Problem{Path: key, Message: fmt.Sprintf("Unknown field %s", key)})
		}
	}
	problems = append(problems, checkMetadata(&e.Metadata)...)

	// References are resolved before the lists are sorted, so that the list
	// indexes in their problems' Paths are those of the document.
	_, relProblems := Relations(e)
	if k, ok := kinds[e.Kind]; ok {
		if !slices.Contains(k.versions, e.APIVersion) {
			problems = append(problems, fieldProblem("apiVersion", e.APIVersion,
				fmt.Sprintf("one of %s for kind %s", strings.Join(k.versions, ", "), e.Kind)))
		}
		switch {
		case e.Spec != nil:
			problems = append(problems, k.checkSpec(e.Spec)...)
			k.sortLists(e.Spec)
		case doc["spec"] == nil: // a spec that is not an object was reported by fromDoc
			problems = append(problems, Problem{Path: "spec", Message: fmt.Sprintf("%q is required for kind %s", "spec", e.Kind)})
		}
	} else if known := knownKindFolded(e.Kind); known != "" {
		problems = append(problems, fieldProblem("kind", e.Kind, fmt.Sprintf("%q (kinds are case-sensitive)", known)))
	}
	problems = append(problems, relProblems...)
	return e, problems
}

func knownKindFolded(kind string) string {
	for k := range kinds {
		if strings.EqualFold(k, kind) {
			return k
		}
	}
	return ""
}

// fromDoc reads the envelope and metadata of doc. It returns nil and the
// reasons when the document cannot be named; otherwise the entity and any
// problems with the shape of its other metadata fields.
func fromDoc(doc map[string]any) (*Entity, []Problem) {
	var problems []Problem
	e := &Entity{}
	apiVersion, ok := doc["apiVersion"].(string)
	switch {
	case !ok || apiVersion == "":
		problems = append(problems, Problem{Path: "apiVersion", Message: `"apiVersion" is required and must be a non-empty string`})
	case !IsValidAPIVersion(apiVersion):
		problems = append(problems, fieldProblem("apiVersion", apiVersion, expectAPIVersion))
	}
	kind, ok := doc["kind"].(string)
	switch {
	case !ok || kind == "":
		problems = append(problems, Problem{Path: "kind", Message: `"kind" is required and must be a non-empty string`})
	case !IsValidKind(kind):
		problems = append(problems, fieldProblem("kind", kind, expectKind))
	}
	md, ok := doc["metadata"].(map[string]any)
	if !ok {
		problems = append(problems, Problem{Path: "metadata", Message: `"metadata" is required and must be an object`})
		return nil, problems
	}
	name, ok := md["name"].(string)
	switch {
	case !ok || name == "":
		problems = append(problems, Problem{Path: "metadata.name", Message: `"metadata.name" is required and must be a non-empty string`})
	case !IsValidObjectName(name):
		problems = append(problems, fieldProblem("metadata.name", name, expectName))
	}
	namespace := DefaultNamespace
	if v, present := md["namespace"]; present {
		ns, ok := v.(string)
		switch {
		case !ok || ns == "":
			problems = append(problems, fieldProblem("metadata.namespace", v, expectNamespace))
		case !IsValidNamespace(ns):
			problems = append(problems, fieldProblem("metadata.namespace", ns, expectNamespace))
		default:
			namespace = ns
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	e.APIVersion, e.Kind = apiVersion, kind
	e.Metadata.Name, e.Metadata.Namespace = name, namespace
	if spec, present := doc["spec"]; present && spec != nil {
		m, ok := spec.(map[string]any)
		if !ok {
			problems = append(problems, fieldProblem("spec", spec, "an object"))
		} else {
			e.Spec = m
		}
	}
	problems = append(problems, readMetadata(&e.Metadata, md)...)
	return e, problems
}

// readMetadata copies the known metadata fields into m, reporting fields of
// the wrong type, and keeps the others in m.Extra. It also checks the format
// of tags and link URLs, whose Paths need their index in the document.
func readMetadata(m *Metadata, md map[string]any) []Problem {
	var problems []Problem
	str := func(key string) string {
		v, present := md[key]
		if !present || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			problems = append(problems, fieldProblem("metadata."+key, v, "a string"))
		}
		return s
	}
	strMap := func(key string) map[string]string {
		v, present := md[key]
		if !present || v == nil {
			return nil
		}
		raw, ok := v.(map[string]any)
		if !ok {
			problems = append(problems, fieldProblem("metadata."+key, v, "an object of strings"))
			return nil
		}
		out := make(map[string]string, len(raw))
		for k, val := range raw {
			s, ok := val.(string)
			if !ok {
				problems = append(problems, fieldProblem("metadata."+key+"."+k, val, "a string"))
				continue
			}
			out[k] = s
		}
		return out
	}
	m.UID = str("uid")
	m.Etag = str("etag")
	m.Title = str("title")
	if t, ok := md["title"].(string); ok && t == "" {
		problems = append(problems, fieldProblem("metadata.title", t, "a non-empty string"))
	}
	m.Description = str("description")
	m.Labels = strMap("labels")
	m.Annotations = strMap("annotations")
	if v, present := md["tags"]; present && v != nil {
		list, ok := v.([]any)
		if !ok {
			problems = append(problems, fieldProblem("metadata.tags", v, "a list of strings"))
		}
		for i, item := range list {
			s, ok := item.(string)
			if !ok || !IsValidTag(s) {
				problems = append(problems, fieldProblem(indexPath("metadata.tags", i), item, expectTag))
			}
			if ok {
				m.Tags = append(m.Tags, s)
			}
		}
	}
	if v, present := md["links"]; present && v != nil {
		list, ok := v.([]any)
		if !ok {
			problems = append(problems, fieldProblem("metadata.links", v, "a list of links"))
		}
		for i, item := range list {
			path := indexPath("metadata.links", i)
			lm, ok := item.(map[string]any)
			if !ok {
				problems = append(problems, fieldProblem(path, item, "an object with a url"))
				continue
			}
			var l Link
			for key, dst := range map[string]*string{"url": &l.URL, "title": &l.Title, "icon": &l.Icon, "type": &l.Type} {
				if val, present := lm[key]; present {
					s, ok := val.(string)
					if !ok || (key != "url" && strings.TrimSpace(s) == "") {
						problems = append(problems, fieldProblem(path+"."+key, val, "a non-blank string"))
					}
					*dst = s
				}
			}
			// A url of the wrong type was reported above.
			if u, present := lm["url"]; !present {
				problems = append(problems, fieldProblem(path+".url", nil, expectURL))
			} else if s, ok := u.(string); ok && !IsValidURL(s) {
				problems = append(problems, fieldProblem(path+".url", s, expectURL))
			}
			m.Links = append(m.Links, l)
		}
	}
	for k, v := range md {
		switch k {
		case "name", "namespace", "uid", "etag", "title", "description", "labels", "annotations", "tags", "links":
		default:
			if m.Extra == nil {
				m.Extra = map[string]any{}
			}
			m.Extra[k] = v
		}
	}
	return problems
}

// checkMetadata applies the field format rules to the labels and
// annotations that have the right types (readMetadata reported the wrong
// ones, and checked tags and links).
func checkMetadata(m *Metadata) []Problem {
	var problems []Problem
	for _, k := range sortedKeys(m.Labels) {
		if !IsValidKey(k) {
			problems = append(problems, fieldProblem("metadata.labels."+k, k, expectKey))
		}
		if v := m.Labels[k]; !IsValidLabelValue(v) {
			problems = append(problems, fieldProblem("metadata.labels."+k, v, expectLabelValue))
		}
	}
	for _, k := range sortedKeys(m.Annotations) {
		if !IsValidKey(k) {
			problems = append(problems, fieldProblem("metadata.annotations."+k, k, expectKey))
		}
	}
	return problems
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
