package ingest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Validation is the result of [Validate].
type Validation struct {
	Files    int                       // descriptor files read
	Entities int                       // entities that passed every check
	Problems []catalog.ProcessingError // everything wrong, in file order
}

// Validate checks descriptor files offline, as a team's CI would before a
// change lands: every document is parsed and validated, Location entities
// are followed to the files they name, and placeholders are resolved
// within each argument's directory. URLs are never fetched. A directory
// argument stands for every catalog-info.yaml (or .yml) below it.
func Validate(ctx context.Context, paths []string, maxFileSize int64) (Validation, error) {
	ctx, cancel := context.WithCancel(ctx) // stops the workers of a pass that ends early
	defer cancel()
	r := newReader(nil, maxFileSize)
	r.offline = true
	// Files and URLs already read are shared by every run: a file that a
	// Location led to is not read again when the walk of a directory finds
	// it, so its entities are not reported as duplicates of themselves.
	c := &collector{seen: map[string]string{}, read: map[string]bool{}}
	for _, p := range paths {
		files, tree, err := descriptorFiles(p)
		if err != nil {
			return c.validation(), err
		}
		for _, f := range files {
			// The files are the caller's own, and the server's rules are
			// not known here: they are checked as a configured location.
			root := catalog.Location{Type: TypeFile, Target: f, Configured: true}
			run := newRun(r, defaultRules, limits{entity: DefaultMaxEntitySize, location: DefaultMaxLocationSize}, root, c)
			run.seen = c.read
			run.tree = tree
			if err := run.readTarget(ctx, TypeFile, f, "required", root.Key(), "", 0); err != nil {
				return c.validation(), err
			}
		}
	}
	c.result.Problems = append(c.result.Problems, c.dangling()...)
	return c.validation(), nil
}

// dangling returns a warning for each relation an entity's spec declares
// to an entity none of the files read defines, as the server warns of one
// to an entity not in the catalog: files validated together stand for the
// catalog, so a team that validates all of its files sees what the server
// would report.
func (c *collector) dangling() []catalog.ProcessingError {
	var out []catalog.ProcessingError
	done := map[[3]string]bool{}
	for _, em := range c.emitted {
		self := em.Entity.Ref().String()
		for _, rel := range em.Relations {
			k := [3]string{rel.Source.String(), rel.Type, rel.Target.String()}
			if k[0] != self || done[k] {
				continue
			}
			done[k] = true
			if _, ok := c.seen[k[2]]; !ok {
				out = append(out, catalog.DanglingReference(em.LocationKey, k[0], k[1], k[2]))
			}
		}
	}
	slices.SortFunc(out, func(a, b catalog.ProcessingError) int { return strings.Compare(a.Message, b.Message) })
	return out
}

// descriptorFiles expands a path argument into absolute file paths, and
// returns the directory placeholders may read from: the argument itself, or
// a file argument's directory.
func descriptorFiles(p string) (files []string, tree string, err error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, "", err
	}
	if !st.IsDir() {
		return []string{abs}, filepath.Dir(abs), nil
	}
	err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || (d.Name() != "." && d.Name()[0] == '.' && path != abs)) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (d.Name() == "catalog-info.yaml" || d.Name() == "catalog-info.yml") {
			files = append(files, path)
		}
		return nil
	})
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("%s: no catalog-info.yaml files found", p)
	}
	return files, abs, err
}

// collector is the sink of a validation: it keeps problems, counts good
// entities and reports refs emitted twice.
type collector struct {
	result Validation
	seen   map[string]string // ref → location key of its first emission
	read   map[string]bool   // "type:name" of every file and URL reached
	// emitted keeps every entity, valid or not, for a dry run.
	emitted []*catalog.Emitted
}

// validation returns the result, counting the files read (URLs are not).
func (c *collector) validation() Validation {
	v := c.result
	for key := range c.read {
		if strings.HasPrefix(key, TypeFile+":") {
			v.Files++
		}
	}
	return v
}

func (c *collector) put(_ context.Context, em *catalog.Emitted, _ *catalog.EntityDoc) error {
	ref := em.Entity.Ref().String()
	if first, dup := c.seen[ref]; dup {
		c.result.Problems = append(c.result.Problems, catalog.ProcessingError{
			Level: catalog.LevelError, LocationKey: em.LocationKey, Document: -1, EntityRef: ref,
			Code:    catalog.ErrorCodeConflict,
			Message: fmt.Sprintf("%s is also defined in %s", ref, first),
		})
		return nil
	}
	c.seen[ref] = em.LocationKey
	c.emitted = append(c.emitted, em)
	if len(em.Errors) == 0 {
		c.result.Entities++
	}
	c.result.Problems = append(c.result.Problems, em.Errors...)
	return nil
}

func (c *collector) fail(pe catalog.ProcessingError) {
	c.result.Problems = append(c.result.Problems, pe)
}

func (c *collector) unreadable(string) {}
