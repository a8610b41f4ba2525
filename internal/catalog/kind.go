package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Kind names Greenroom models.
const (
	KindComponent = "Component"
	KindAPI       = "API"
	KindResource  = "Resource"
	KindSystem    = "System"
	KindDomain    = "Domain"
	KindGroup     = "Group"
	KindUser      = "User"
	KindLocation  = "Location"
	KindTemplate  = "Template"
)

// apiVersions accepted by Backstage's built-in kinds.
var builtinVersions = []string{"backstage.io/v1alpha1", "backstage.io/v1beta1"}

// fieldType is the shape a spec field must have.
type fieldType int

const (
	typeString       fieldType = iota // a non-empty string
	typeStringList                    // a list of non-empty strings, possibly empty
	typeObject                        // a mapping
	typeObjectOrList                  // a mapping or a list of mappings (template parameters)
	typeList                          // a list of anything
	typeAny                           // any value
)

type specField struct {
	key      string
	typ      fieldType
	required bool
	oneOf    []string // allowed values, when the field is an enum
}

type relationField struct {
	key         string // spec key holding one ref or a list of refs
	defaultKind string // kind assumed when a ref has none; "" requires one
	forward     string // relation from this entity to the target
}

// kindRule is everything Greenroom knows about one kind.
type kindRule struct {
	versions  []string
	fields    []specField
	relations []relationField
	// check runs kind-specific rules that a field list cannot say.
	check func(spec map[string]any) []Problem
	// sorted lists spec keys whose string lists Backstage sorts on ingestion.
	sorted []string
}

var kinds = map[string]*kindRule{
	KindComponent: {
		versions: builtinVersions,
		fields: []specField{
			{key: "type", typ: typeString, required: true},
			{key: "lifecycle", typ: typeString, required: true},
			{key: "owner", typ: typeString, required: true},
			{key: "system", typ: typeString},
			{key: "subcomponentOf", typ: typeString},
			{key: "providesApis", typ: typeStringList},
			{key: "consumesApis", typ: typeStringList},
			{key: "dependsOn", typ: typeStringList},
			{key: "dependencyOf", typ: typeStringList},
		},
		relations: []relationField{
			{"owner", KindGroup, RelationOwnedBy},
			{"subcomponentOf", KindComponent, RelationPartOf},
			{"providesApis", KindAPI, RelationProvidesAPI},
			{"consumesApis", KindAPI, RelationConsumesAPI},
			{"dependsOn", "", RelationDependsOn},
			{"dependencyOf", "", RelationDependencyOf},
			{"system", KindSystem, RelationPartOf},
		},
		sorted: []string{"providesApis", "consumesApis", "dependsOn", "dependencyOf"},
	},
	KindAPI: {
		versions: builtinVersions,
		fields: []specField{
			{key: "type", typ: typeString, required: true},
			{key: "lifecycle", typ: typeString, required: true},
			{key: "owner", typ: typeString, required: true},
			{key: "system", typ: typeString},
		},
		relations: []relationField{
			{"owner", KindGroup, RelationOwnedBy},
			{"system", KindSystem, RelationPartOf},
		},
		check: checkAPIDefinition,
	},
	KindResource: {
		versions: builtinVersions,
		fields: []specField{
			{key: "type", typ: typeString, required: true},
			{key: "owner", typ: typeString, required: true},
			{key: "system", typ: typeString},
			{key: "dependsOn", typ: typeStringList},
			{key: "dependencyOf", typ: typeStringList},
		},
		relations: []relationField{
			{"owner", KindGroup, RelationOwnedBy},
			{"dependsOn", "", RelationDependsOn},
			{"dependencyOf", "", RelationDependencyOf},
			{"system", KindSystem, RelationPartOf},
		},
		sorted: []string{"dependsOn", "dependencyOf"},
	},
	KindSystem: {
		versions: builtinVersions,
		fields: []specField{
			{key: "owner", typ: typeString, required: true},
			{key: "domain", typ: typeString},
			{key: "type", typ: typeString},
		},
		relations: []relationField{
			{"owner", KindGroup, RelationOwnedBy},
			{"domain", KindDomain, RelationPartOf},
		},
	},
	KindDomain: {
		versions: builtinVersions,
		fields: []specField{
			{key: "owner", typ: typeString, required: true},
			{key: "subdomainOf", typ: typeString},
			{key: "type", typ: typeString},
		},
		relations: []relationField{
			{"owner", KindGroup, RelationOwnedBy},
			{"subdomainOf", KindDomain, RelationPartOf},
		},
	},
	KindGroup: {
		versions: builtinVersions,
		fields: []specField{
			{key: "type", typ: typeString, required: true},
			{key: "children", typ: typeStringList, required: true},
			{key: "parent", typ: typeString},
			{key: "members", typ: typeStringList},
			{key: "profile", typ: typeObject},
		},
		relations: []relationField{
			{"parent", KindGroup, RelationChildOf},
			{"children", KindGroup, RelationParentOf},
			{"members", KindUser, RelationHasMember},
		},
		check:  checkProfile,
		sorted: []string{"children", "members"},
	},
	KindUser: {
		versions: builtinVersions,
		fields: []specField{
			{key: "memberOf", typ: typeStringList, required: true},
			{key: "profile", typ: typeObject},
		},
		relations: []relationField{
			{"memberOf", KindGroup, RelationMemberOf},
		},
		check:  checkProfile,
		sorted: []string{"memberOf"},
	},
	KindLocation: {
		versions: builtinVersions,
		fields: []specField{
			{key: "type", typ: typeString},
			{key: "target", typ: typeString},
			{key: "targets", typ: typeStringList},
			{key: "presence", typ: typeString, oneOf: []string{"required", "optional"}},
		},
	},
	KindTemplate: {
		versions: []string{"scaffolder.backstage.io/v1beta3"},
		fields: []specField{
			{key: "type", typ: typeString, required: true},
			{key: "steps", typ: typeList, required: true},
			{key: "owner", typ: typeString},
			{key: "lifecycle", typ: typeString},
			{key: "parameters", typ: typeObjectOrList},
			{key: "output", typ: typeObject},
		},
		relations: []relationField{
			{"owner", KindGroup, RelationOwnedBy},
		},
	},
}

// genericKind applies to kinds Greenroom does not model. Their spec is free
// form; an owner or system written the usual way still becomes a relation,
// so that such entities show up among what a team owns.
var genericKind = &kindRule{
	relations: []relationField{
		{"owner", KindGroup, RelationOwnedBy},
		{"system", KindSystem, RelationPartOf},
	},
}

// IsKnownKind reports whether Greenroom models kind, spelled exactly.
func IsKnownKind(kind string) bool { _, ok := kinds[kind]; return ok }

// remoteAPITypes are API spec types described by spec.remotes instead of a
// definition (Backstage's mcp-server schema; ai-model-server follows it).
var remoteAPITypes = []string{"mcp-server", "ai-model-server"}

func checkAPIDefinition(spec map[string]any) []Problem {
	typ, _ := spec["type"].(string)
	if !slices.Contains(remoteAPITypes, typ) {
		if s, ok := spec["definition"].(string); !ok || s == "" {
			return []Problem{fieldProblem("spec.definition", spec["definition"], "a non-empty string")}
		}
		return nil
	}
	remotes, ok := spec["remotes"].([]any)
	if !ok || len(remotes) == 0 {
		return []Problem{{Path: "spec.remotes", Message: fmt.Sprintf("%q is required for API type %q; expected a list of at least one {type, url}", "spec.remotes", typ)}}
	}
	var problems []Problem
	for i, r := range remotes {
		m, ok := r.(map[string]any)
		path := indexPath("spec.remotes", i)
		if !ok {
			problems = append(problems, fieldProblem(path, r, "an object with type and url"))
			continue
		}
		for _, key := range []string{"type", "url"} {
			if s, ok := m[key].(string); !ok || s == "" {
				problems = append(problems, fieldProblem(path+"."+key, m[key], "a non-empty string"))
			}
		}
	}
	return problems
}

func checkProfile(spec map[string]any) []Problem {
	profile, ok := spec["profile"].(map[string]any)
	if !ok {
		return nil
	}
	var problems []Problem
	for _, key := range []string{"displayName", "email", "picture"} {
		if v, present := profile[key]; present {
			if s, ok := v.(string); !ok || s == "" {
				problems = append(problems, fieldProblem("spec.profile."+key, v, "a non-empty string"))
			}
		}
	}
	return problems
}

// checkSpec validates spec against the kind's field list and checks.
func (k *kindRule) checkSpec(spec map[string]any) []Problem {
	var problems []Problem
	for _, f := range k.fields {
		v, present := spec[f.key]
		path := "spec." + f.key
		if !present || v == nil {
			if f.required {
				problems = append(problems, Problem{Path: path, Message: fmt.Sprintf("%q is required", path)})
			}
			continue
		}
		switch f.typ {
		case typeString:
			if s, ok := v.(string); !ok || s == "" {
				problems = append(problems, fieldProblem(path, v, "a non-empty string"))
			} else if len(f.oneOf) > 0 && !slices.Contains(f.oneOf, s) {
				problems = append(problems, fieldProblem(path, v, "one of "+strings.Join(f.oneOf, ", ")))
			}
		case typeStringList:
			list, ok := v.([]any)
			if !ok {
				problems = append(problems, fieldProblem(path, v, "a list of strings"))
				continue
			}
			for i, item := range list {
				if s, ok := item.(string); !ok || s == "" {
					problems = append(problems, fieldProblem(indexPath(path, i), item, "a non-empty string"))
				}
			}
		case typeObject:
			if _, ok := v.(map[string]any); !ok {
				problems = append(problems, fieldProblem(path, v, "an object"))
			}
		case typeObjectOrList:
			switch v.(type) {
			case map[string]any, []any:
			default:
				problems = append(problems, fieldProblem(path, v, "an object or a list of objects"))
			}
		case typeList:
			if _, ok := v.([]any); !ok {
				problems = append(problems, fieldProblem(path, v, "a list"))
			}
		}
	}
	if k.check != nil {
		problems = append(problems, k.check(spec)...)
	}
	return problems
}

// sortLists sorts the string lists Backstage sorts, in place, as its
// BuiltinKindsEntityProcessor does, so stored entities match.
func (k *kindRule) sortLists(spec map[string]any) {
outer:
	for _, key := range k.sorted {
		list, ok := spec[key].([]any)
		if !ok {
			continue
		}
		strs := make([]string, 0, len(list))
		for _, item := range list {
			s, ok := item.(string)
			if !ok {
				continue outer // not a string list: leave it as written
			}
			strs = append(strs, s)
		}
		slices.Sort(strs)
		for i, s := range strs {
			list[i] = s
		}
	}
}
