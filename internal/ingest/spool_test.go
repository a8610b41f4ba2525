package ingest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// TestSpool puts bodies in the spool and loads them again, whole, with the
// uid their doc has now; a corrupt record is an error, not a panic.
func TestSpool(t *testing.T) {
	s := newSpool()
	defer s.Close()
	bodies := []*catalog.EntityBody{
		{Kind: "Component", Namespace: "default", Name: "a", Title: "Ä title", Tags: "|x|", Labels: "{}", Annotations: `{"k":"v"}`,
			Data: `{"metadata":{"uid":"u1","name":"a"}}`, DataUID: "u1",
			Relations: [][3]string{{"component:default/a", "ownedBy", "group:default/t"}, {"component:default/a", "dependsOn", ""}}},
		{Kind: "Group", Name: "", Data: `{}`},
	}
	var docs []*catalog.EntityDoc
	for i, b := range bodies {
		copied := *b
		d := &catalog.EntityDoc{Ref: "r" + string(rune('0'+i)), UID: b.DataUID, EntityBody: &copied}
		if err := s.put(d); err != nil {
			t.Fatal(err)
		}
		if d.EntityBody != nil {
			t.Fatal("put kept the body in memory")
		}
		docs = append(docs, d)
	}
	docs[0].SetUID("u2") // an update takes the stored entity's id while spooled
	if err := s.Load(docs); err != nil {
		t.Fatal(err)
	}
	want := *bodies[0]
	want.Data, want.DataUID = `{"metadata":{"uid":"u2","name":"a"}}`, "u2"
	if diff := cmp.Diff(&want, docs[0].EntityBody); diff != "" {
		t.Errorf("first body (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(bodies[1], docs[1].EntityBody); diff != "" {
		t.Errorf("second body (-want +got):\n%s", diff)
	}
	s.Release(docs)
	if docs[0].EntityBody != nil {
		t.Error("Release kept the body")
	}

	for _, buf := range [][]byte{{}, {0xff}, {5, 'a'}, append(make([]byte, 12), 0xff, 0xff, 0xff, 0x7f)} {
		if _, err := decodeBody(buf); err == nil {
			t.Errorf("decodeBody(%v) = nil error, want one", buf)
		}
	}
	if err := s.Load([]*catalog.EntityDoc{{Ref: "never put"}}); err == nil {
		t.Error("Load of a doc never put: nil error")
	}
}
