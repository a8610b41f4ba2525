package nunjucks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

func TestZZDiff(t *testing.T) {
	data, err := os.ReadFile(os.Getenv("DIFF"))
	if err != nil {
		t.Skip()
	}
	var corpus struct {
		Cases []struct {
			ID, Template, Expected string
			Context                map[string]any
			Error                  bool
		}
	}
	json.Unmarshal(data, &corpus)
	bad := 0
	for _, c := range corpus.Cases {
		tmpl, err := nunjucks.Parse(c.Template, &nunjucks.Options{Syntax: nunjucks.NunjucksSyntax})
		var got string
		if err == nil {
			got, err = tmpl.Render(c.Context)
		}
		if c.Error || err != nil {
			if !c.Error && err != nil {
				fmt.Printf("MYERR %s\n   %v\n", c.Template, err)
				bad++
			}
			continue
		}
		if got != c.Expected {
			fmt.Printf("DIFF %s\n   want %q\n   got  %q\n", c.Template, c.Expected, got)
			bad++
		}
	}
	fmt.Println("bad:", bad)
}
