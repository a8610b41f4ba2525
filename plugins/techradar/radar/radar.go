// Package radar reads Tech Radars: Backstage's TechRadarLoaderResponse
// (JSON or YAML) and Roadie's CSV variant. It checks what Backstage's
// parser leaves unchecked — unique ids, entries in quadrants and rings
// that exist, dates, moves of -1, 0 or 1 — and names the entry at fault;
// it orders each entry's timeline newest first and derives a snapshot's
// moved from the ring before it when the file leaves it out, because
// Backstage's frontend takes timeline[0] as the entry's state and sorts
// nothing (backstage/backstage#11577).
package radar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Radar is one Tech Radar.
type Radar struct {
	Quadrants []Quadrant `json:"quadrants"`
	Rings     []Ring     `json:"rings"`
	Entries   []Entry    `json:"entries"`
}

// Quadrant is a quadrant of the radar; Backstage draws the first four,
// clockwise from the bottom right.
type Quadrant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Ring is a ring of the radar, the innermost first.
type Ring struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description,omitempty"`
}

// Entry is a technology on the radar.
type Entry struct {
	ID          string     `json:"id"`
	Key         string     `json:"key"`
	Title       string     `json:"title"`
	Quadrant    string     `json:"quadrant"`
	Description string     `json:"description,omitempty"`
	URL         string     `json:"url,omitempty"`
	Links       []Link     `json:"links,omitempty"`
	Timeline    []Snapshot `json:"timeline"`
}

// Link is a link of an entry.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// Snapshot is where an entry stood from a date: its ring, and whether it
// moved in (1, towards the centre), out (-1) or not (0).
type Snapshot struct {
	Date        time.Time `json:"date"`
	RingID      string    `json:"ringId"`
	Description string    `json:"description,omitempty"`
	Moved       int       `json:"moved"`
}

// Limits on a radar file: larger ones are refused, not read.
const (
	MaxFileSize = 8 << 20
	MaxEntries  = 10_000
)

// Parse reads a radar file, its format chosen by the name's extension
// (.json, .yaml or .yml, .csv), and checks it. Errors name the file, and
// the entry or line at fault.
func Parse(name string, data []byte) (*Radar, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a radar file may have", name, len(data), MaxFileSize)
	}
	var (
		r   *Radar
		err error
	)
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".json", ".yaml", ".yml":
		r, err = parseDocument(data)
	case ".csv":
		r, err = parseCSV(data)
	default:
		return nil, fmt.Errorf("%s: a radar file is .json, .yaml, .yml or .csv, not %q", name, ext)
	}
	if err == nil {
		err = r.check()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// document is the file form of a radar: Backstage's, whose dates are
// strings and whose moved may be left out.
type document struct {
	Quadrants []Quadrant `json:"quadrants" yaml:"quadrants"`
	Rings     []Ring     `json:"rings" yaml:"rings"`
	Entries   []struct {
		ID          string `json:"id" yaml:"id"`
		Key         string `json:"key" yaml:"key"`
		Title       string `json:"title" yaml:"title"`
		Quadrant    string `json:"quadrant" yaml:"quadrant"`
		Description string `json:"description" yaml:"description"`
		URL         string `json:"url" yaml:"url"`
		Links       []Link `json:"links" yaml:"links"`
		Timeline    []struct {
			Date        string `json:"date" yaml:"date"`
			RingID      string `json:"ringId" yaml:"ringId"`
			Description string `json:"description" yaml:"description"`
			Moved       *int   `json:"moved" yaml:"moved"`
		} `json:"timeline" yaml:"timeline"`
	} `json:"entries" yaml:"entries"`
}

func parseDocument(data []byte) (*Radar, error) {
	var doc document
	// YAML reads JSON too; JSON is decoded as JSON for its error messages.
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
	} else if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Entries) > MaxEntries {
		return nil, fmt.Errorf("%d entries, more than %d", len(doc.Entries), MaxEntries)
	}
	r := &Radar{Quadrants: doc.Quadrants, Rings: doc.Rings}
	var errs []error
	for i, de := range doc.Entries {
		e := Entry{ID: de.ID, Key: de.Key, Title: de.Title, Quadrant: de.Quadrant, Description: de.Description,
			URL: de.URL, Links: de.Links}
		for j, ds := range de.Timeline {
			date, err := parseDate(ds.Date)
			if err != nil {
				errs = append(errs, fmt.Errorf("entry %s, timeline[%d]: %w", entryName(e, i), j, err))
				continue
			}
			s := Snapshot{Date: date, RingID: ds.RingID, Description: ds.Description, Moved: unknownMove}
			if ds.Moved != nil {
				s.Moved = *ds.Moved
			}
			e.Timeline = append(e.Timeline, s)
		}
		r.Entries = append(r.Entries, e)
	}
	return r, errors.Join(errs...)
}

// unknownMove marks a snapshot whose file did not say how it moved.
const unknownMove = -2

// dateLayouts are the dates a radar file may hold: those JavaScript's Date
// reads that people write.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "2006-01"}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not a date such as 2024-03-01 or 2024-03-01T12:00:00Z", s)
}

func entryName(e Entry, i int) string {
	switch {
	case e.ID != "":
		return fmt.Sprintf("%q", e.ID)
	case e.Title != "":
		return fmt.Sprintf("%q", e.Title)
	}
	return fmt.Sprintf("#%d", i+1)
}

// check checks the radar, orders each timeline newest first and derives
// the moves the file left out.
func (r *Radar) check() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(r.Quadrants) == 0 || len(r.Rings) == 0 {
		fail("a radar needs quadrants and rings")
	}
	quadrants := map[string]bool{}
	for i, q := range r.Quadrants {
		switch {
		case q.ID == "" || q.Name == "":
			fail("quadrant #%d needs an id and a name", i+1)
		case quadrants[q.ID]:
			fail("quadrant %q is declared twice", q.ID)
		}
		quadrants[q.ID] = true
	}
	ringAt := map[string]int{}
	for i, g := range r.Rings {
		switch _, dup := ringAt[g.ID]; {
		case g.ID == "" || g.Name == "" || g.Color == "":
			fail("ring #%d needs an id, a name and a color", i+1)
		case dup:
			fail("ring %q is declared twice", g.ID)
		}
		ringAt[g.ID] = i
	}
	ids := map[string]bool{}
	for i := range r.Entries {
		e := &r.Entries[i]
		name := entryName(*e, i)
		if e.Key == "" {
			e.Key = e.ID
		}
		switch {
		case e.ID == "" || e.Title == "":
			fail("entry %s needs an id and a title", name)
		case ids[e.ID]:
			fail("entry %s: the id is taken by another entry", name)
		}
		ids[e.ID] = true
		if !quadrants[e.Quadrant] {
			fail("entry %s: quadrant %q is not one of the radar's", name, e.Quadrant)
		}
		if len(e.Timeline) == 0 {
			fail("entry %s has no timeline", name)
		}
		for j, s := range e.Timeline {
			if _, ok := ringAt[s.RingID]; !ok {
				fail("entry %s, timeline[%d]: ring %q is not one of the radar's", name, j, s.RingID)
			}
			if s.Moved != unknownMove && (s.Moved < -1 || s.Moved > 1) {
				fail("entry %s, timeline[%d]: moved is -1, 0 or 1, not %d", name, j, s.Moved)
			}
		}
		for j, l := range e.Links {
			if l.URL == "" || l.Title == "" {
				fail("entry %s, links[%d] needs a url and a title", name, j)
			}
		}
		slices.SortStableFunc(e.Timeline, func(a, b Snapshot) int { return b.Date.Compare(a.Date) })
		for j := range e.Timeline {
			s := &e.Timeline[j]
			if s.Moved != unknownMove {
				continue
			}
			s.Moved = 0
			if j+1 < len(e.Timeline) {
				// Inner rings come first: a lower index is a move in.
				switch before, now := ringAt[e.Timeline[j+1].RingID], ringAt[s.RingID]; {
				case now < before:
					s.Moved = 1
				case now > before:
					s.Moved = -1
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Backstage returns the radar as Backstage's tech-radar backend answers
// GET /api/tech-radar/data: TechRadarLoaderResponse, dates as ISO strings.
func (r *Radar) Backstage() ([]byte, error) {
	return json.Marshal(r)
}
