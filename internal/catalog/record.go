package catalog

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Record is a stored entity as readers get it: the fields that lists and
// filters need are at hand, and the full document is decoded only when a
// reader asks for it, since decoding dominates the cost of a large list.
type Record struct {
	UID         string
	Ref         string // canonical, lower-cased
	Kind        string // as written
	Namespace   string
	Name        string // as written
	Title       string
	Description string
	SpecType    string
	Lifecycle   string
	Etag        string
	Orphan      bool
	LocationID  string // the registered location that emits it
	ParentRef   string // the Location entity whose target led to its file, or ""
	Data        []byte // the entity as JSON

	once   sync.Once
	entity *Entity
	err    error
}

// Entity decodes the record's document, once.
func (r *Record) Entity() (*Entity, error) {
	r.once.Do(func() {
		var e Entity
		if err := json.Unmarshal(r.Data, &e); err != nil {
			r.err = fmt.Errorf("catalog: decode stored entity %s: %w", r.Ref, err)
			return
		}
		r.entity = &e
	})
	return r.entity, r.err
}
