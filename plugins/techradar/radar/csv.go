package radar

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// csvColumns are the columns of Roadie's CSV radar: title, ring and
// quadrant are needed, the rest may be left out.
var csvColumns = []string{"title", "ring", "quadrant", "moved", "description", "url", "date"}

// ringColors are the colours of rings a CSV radar names, which it cannot
// give: Backstage's example radar's, then grey.
var ringColors = []string{"#5BA300", "#009EB0", "#C7BA00", "#E09B96"}

// parseCSV reads Roadie's CSV variant: one row per entry, or per snapshot
// of an entry (rows of the same title), its quadrants and rings in the
// order they first appear.
func parseCSV(data []byte) (*Radar, error) {
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	rd.TrimLeadingSpace = true
	header, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range csvColumns[:3] {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("line 1: no %q column; the columns are %s", c, strings.Join(csvColumns, ","))
		}
	}
	r := &Radar{}
	quadrants, rings, entries := map[string]bool{}, map[string]bool{}, map[string]int{}
	var errs []error
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		line, _ := rd.FieldPos(0)
		if err != nil {
			return nil, err
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		title, ring, quadrant := get("title"), get("ring"), get("quadrant")
		if title == "" || ring == "" || quadrant == "" {
			errs = append(errs, fmt.Errorf("line %d: an entry needs a title, a ring and a quadrant", line))
			continue
		}
		if !quadrants[quadrant] {
			quadrants[quadrant] = true
			r.Quadrants = append(r.Quadrants, Quadrant{ID: quadrant, Name: quadrant})
		}
		if !rings[ring] {
			rings[ring] = true
			color := "#999999"
			if len(r.Rings) < len(ringColors) {
				color = ringColors[len(r.Rings)]
			}
			r.Rings = append(r.Rings, Ring{ID: ring, Name: ring, Color: color})
		}
		s := Snapshot{RingID: ring, Description: get("description"), Moved: unknownMove}
		if v := get("date"); v != "" {
			if s.Date, err = parseDate(v); err != nil {
				errs = append(errs, fmt.Errorf("line %d, entry %q: %w", line, title, err))
				continue
			}
		}
		if v := get("moved"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("line %d, entry %q: moved %q is not a number", line, title, v))
				continue
			}
			// Roadie's moved is any number: its sign says which way.
			s.Moved = max(-1, min(1, n))
		}
		i, ok := entries[title]
		if !ok {
			if len(r.Entries) == MaxEntries {
				return nil, fmt.Errorf("line %d: more than %d entries", line, MaxEntries)
			}
			i = len(r.Entries)
			entries[title] = i
			id := slug(title)
			r.Entries = append(r.Entries, Entry{ID: id, Key: id, Title: title, Quadrant: quadrant, URL: get("url"),
				Description: get("description")})
		}
		e := &r.Entries[i]
		if e.Quadrant != quadrant {
			errs = append(errs, fmt.Errorf("line %d, entry %q: quadrant %q, where an earlier row has %q", line, title, quadrant, e.Quadrant))
			continue
		}
		e.Timeline = append(e.Timeline, s)
	}
	return r, errors.Join(errs...)
}

// slug makes an entry's id of its title: lower-cased letters and digits,
// + and # as words, runs of anything else one dash.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(title) {
		word := ""
		switch {
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			word = string(c)
		case c == '+': // C++ and C# are not C
			word = "plus"
		case c == '#':
			word = "sharp"
		default:
			dash = true
			continue
		}
		if (dash || len(word) > 1) && b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(word)
		dash = len(word) > 1
	}
	return b.String()
}
