package ingest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// spoolAfter is how many bodies a refresh keeps in memory before it
// spools the rest: most locations hold a few entities and never touch the
// disk.
const spoolAfter = 256

// spool keeps the bodies of a refresh's documents in an unlinked temporary
// file from reading to writing (a [catalog.Bodies]). Holding them all
// between reading and applying made a refresh need memory in proportion to
// its location: 10,000 entities peaked at 143 MB on SQLite and 99 MB on
// PostgreSQL, against 94 and 56 MB when they were written as they were
// read; with the spool a refresh holds a summary of about 200 bytes per
// entity and a chunk of bodies at a time.
//
// It is used by one goroutine at a time: put while reading, then Load and
// Release while planning and applying.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	end int64 // bytes written
	at  map[*catalog.EntityDoc]span
	buf []byte
}

type span struct {
	off int64
	n   int
}

// newSpool returns an empty spool; its file is made with the first body
// put. Close it.
func newSpool() *spool { return &spool{at: map[*catalog.EntityDoc]span{}} }

// put writes d's body to the spool and drops it from d.
func (s *spool) put(d *catalog.EntityDoc) error {
	if s.f == nil {
		f, err := os.CreateTemp("", "greenroom-refresh-*")
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		// Unlinked at once: the space is freed when the file is closed, even
		// by a process killed before it could clean up.
		os.Remove(f.Name())
		s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	b := d.EntityBody
	s.buf = s.buf[:0]
	for _, v := range []string{b.Kind, b.Namespace, b.Name, b.Title, b.Description, b.SpecType, b.Lifecycle,
		b.Tags, b.Labels, b.Annotations, b.Data, b.DataUID} {
		s.buf = appendString(s.buf, v)
	}
	s.buf = binary.AppendUvarint(s.buf, uint64(len(b.Relations)))
	for _, r := range b.Relations {
		s.buf = appendString(appendString(appendString(s.buf, r[0]), r[1]), r[2])
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.at[d] = span{s.end, len(s.buf)}
	s.end += int64(len(s.buf))
	d.EntityBody = nil
	return nil
}

func appendString(b []byte, v string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// Load implements [catalog.Bodies].
func (s *spool) Load(docs []*catalog.EntityDoc) error {
	if s.w != nil {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
	}
	for _, d := range docs {
		if d.EntityBody != nil {
			continue
		}
		sp, ok := s.at[d]
		if !ok {
			return fmt.Errorf("spool: no body for %s", d.Ref)
		}
		if cap(s.buf) < sp.n {
			s.buf = make([]byte, sp.n)
		}
		buf := s.buf[:sp.n]
		if _, err := s.f.ReadAt(buf, sp.off); err != nil {
			return fmt.Errorf("spool: read %s: %w", d.Ref, err)
		}
		b, err := decodeBody(buf)
		if err != nil {
			return fmt.Errorf("spool: read %s: %w", d.Ref, err)
		}
		d.EntityBody = b
		d.SyncUID()
	}
	return nil
}

// Release implements [catalog.Bodies].
func (s *spool) Release(docs []*catalog.EntityDoc) {
	for _, d := range docs {
		if _, ok := s.at[d]; ok {
			d.EntityBody = nil
		}
	}
}

// Close removes the spool's file.
func (s *spool) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

var errCorrupt = errors.New("corrupt body")

func decodeBody(buf []byte) (*catalog.EntityBody, error) {
	r := bodyReader{buf: buf}
	b := &catalog.EntityBody{}
	for _, p := range []*string{&b.Kind, &b.Namespace, &b.Name, &b.Title, &b.Description, &b.SpecType, &b.Lifecycle,
		&b.Tags, &b.Labels, &b.Annotations, &b.Data, &b.DataUID} {
		*p = r.string()
	}
	n := r.uvarint()
	if r.err == nil && n > uint64(len(buf)) {
		r.err = errCorrupt
	}
	if r.err == nil && n > 0 {
		b.Relations = make([][3]string, n)
		for i := range b.Relations {
			b.Relations[i] = [3]string{r.string(), r.string(), r.string()}
		}
	}
	if r.err == nil && len(r.buf) > 0 {
		r.err = errCorrupt
	}
	return b, r.err
}

// bodyReader reads what [spool.put] wrote; its first error sticks.
type bodyReader struct {
	buf []byte
	err error
}

func (r *bodyReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *bodyReader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.buf)) {
		r.err = io.ErrUnexpectedEOF
		return ""
	}
	v := string(r.buf[:n])
	r.buf = r.buf[n:]
	return v
}
