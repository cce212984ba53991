package server

import (
	"encoding/json"
	"html"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/seskit/ses/tool"
)

// documentPaths returns the paths of openapi.json and the methods of each.
func documentPaths(t *testing.T) map[string][]string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for p, item := range doc.Paths {
		for m := range item {
			out[p] = append(out[p], strings.ToUpper(m))
		}
		slices.Sort(out[p])
	}
	return out
}

func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t)
	file, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{tool.PathOpenAPI, strings.ToUpper(tool.PathOpenAPI) + "/"} {
		r := f.do("GET", path, "")
		if r.status != 200 || r.raw != string(file) || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %s, %d bytes; want 200 application/json, openapi.json's %d bytes", path, r.status, r.header.Get("Content-Type"), len(r.raw), len(file))
		}
	}
}

func TestDocsPage(t *testing.T) {
	f := newFixture(t)
	r := f.do("GET", tool.PathDocs, "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", tool.PathDocs, r.status, r.header.Get("Content-Type"))
	}
	page := r.raw
	paths := documentPaths(t)
	if len(paths) < 10 {
		t.Fatalf("the document has %d paths", len(paths))
	}
	for p, methods := range paths {
		for _, m := range methods {
			if want := `<span class="method">` + m + `</span> ` + html.EscapeString(p) + `</h3>`; !strings.Contains(page, want) {
				t.Errorf("the page has no section for %s %s", m, p)
			}
		}
	}
	var doc refDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for name, s := range doc.Components.Schemas {
		if !strings.Contains(page, `<section id="schema-`+name+`">`) {
			t.Errorf("the page has no section for schema %s", name)
		}
		for prop := range s.Properties {
			if !strings.Contains(page, "<code>"+prop+"</code>") {
				t.Errorf("the page does not show %s.%s", name, prop)
			}
		}
	}
	for _, v := range tool.APIVersions {
		if !strings.Contains(page, "<code>"+v.Name+"</code>") {
			t.Errorf("the page does not name api-version %s", v.Name)
		}
	}
	// Nothing is fetched from elsewhere: no scripts, styles or images by
	// URL, and every link stays on the server.
	if m := regexp.MustCompile(`(?i)<(script|link|img|iframe)\b|\bsrc=|@import|url\(`).FindString(page); m != "" {
		t.Errorf("the page loads something: %q", m)
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "#") && !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("the page links elsewhere: %s", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`href="#([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `id="`+m[1]+`"`) {
			t.Errorf("the page links to #%s, which it lacks", m[1])
		}
	}
}

// TestDocumentedPathsServed checks the other way round: every operation
// of the document reaches a handler, not the 404 of an unknown path.
func TestDocumentedPathsServed(t *testing.T) {
	f := newFixture(t, func(c *HandlerConfig) { c.Auth = newFakeAuth(); c.AdminAudience = "https://127.0.0.1:4443/admin" })
	id := f.acquire(f.token(nil), "PT10M")
	unknown := `"The requested resource does not exist."`
	for p, methods := range documentPaths(t) {
		for _, m := range methods {
			r := f.do(m, strings.ReplaceAll(p, "{id}", id)+"?api-version="+tool.LeaseAPIVersion, "", withToken("good"))
			if r.status == 404 && strings.Contains(r.raw, unknown) {
				t.Errorf("%s %s: the server does not serve it", m, p)
			}
		}
	}
}
