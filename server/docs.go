package server

import (
	"bytes"
	"encoding/json"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// The parts of the OpenAPI document the reference page shows.
type (
	refDoc struct {
		Info struct {
			Title, Summary, Description, Version string
		}
		Servers []struct{ URL, Description string }
		Tags    []struct{ Name, Description string }
		Paths   map[string]map[string]*refOperation
		// Components holds the schemas and the security schemes.
		Components struct {
			Schemas         map[string]*refSchema
			SecuritySchemes map[string]struct{ Type, Scheme, Description string }
		}
	}
	refOperation struct {
		Tags                 []string
		Summary, Description string
		OperationID          string
		Parameters           []struct {
			Name, In, Description string
			Required              bool
			Schema                *refSchema
		}
		RequestBody *struct {
			Description string
			Content     map[string]struct{ Schema *refSchema }
		}
		Responses map[string]*struct {
			Description string
			Headers     map[string]struct {
				Description string
				Schema      *refSchema
			}
			Content map[string]struct{ Schema *refSchema }
		}
		Security []map[string][]string
	}
	refSchema struct {
		Ref             string `json:"$ref"`
		Type            any
		Description     string
		Format, Pattern string
		Enum            []any
		Properties      map[string]*refSchema
		Required        []string
		Items           *refSchema
		OneOf, AllOf    []*refSchema
		APIVersions     []string `json:"x-api-versions"`
	}
)

// refNamed is a schema and its name; Props lists its properties.
type refNamed struct {
	Name   string
	Schema *refSchema
}

// refProp is one property of a schema.
type refProp struct {
	Name     string
	Required bool
	Schema   *refSchema
}

// Props lists the schema's properties in order.
func (s *refSchema) Props() []refProp {
	var out []refProp
	for _, name := range sortedKeys(s.Properties) {
		out = append(out, refProp{name, slices.Contains(s.Required, name), s.Properties[name]})
	}
	return out
}

// refMethods are the methods the page lists, in its order.
var refMethods = []string{"get", "post", "delete"}

// refEntry is one operation on the page.
type refEntry struct {
	Method, Path string
	Op           *refOperation
}

// anchor is the id of the entry's section.
func (e refEntry) Anchor() string { return "op-" + e.Op.OperationID }

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// byTag groups the operations by their first tag, tags in the document's
// order, paths and methods in order within each.
func (d *refDoc) byTag() map[string][]refEntry {
	out := map[string][]refEntry{}
	for _, p := range sortedKeys(d.Paths) {
		for _, m := range refMethods {
			if op := d.Paths[p][m]; op != nil && len(op.Tags) > 0 {
				out[op.Tags[0]] = append(out[op.Tags[0]], refEntry{Method: strings.ToUpper(m), Path: p, Op: op})
			}
		}
	}
	return out
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// prose renders a description: paragraphs split by blank lines, lines that
// begin with "- " as a list, `code` spans; everything else is text.
func prose(s string) template.HTML {
	var b strings.Builder
	inline := func(line string) string {
		return codeSpan.ReplaceAllString(html.EscapeString(line), "<code>$1</code>")
	}
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		lines := strings.Split(para, "\n")
		if strings.HasPrefix(lines[0], "- ") {
			b.WriteString("<ul>")
			for _, l := range lines {
				if item, ok := strings.CutPrefix(l, "- "); ok {
					b.WriteString("<li>" + inline(item))
				} else {
					b.WriteString(" " + inline(strings.TrimSpace(l)))
				}
			}
			b.WriteString("</ul>\n")
			continue
		}
		b.WriteString("<p>" + inline(strings.Join(lines, " ")) + "</p>\n")
	}
	return template.HTML(b.String())
}

// schemaText renders what a schema is, short: a link to a named schema,
// "array of X", "one of `a`, `b`", "X or Y", a type with its format.
func schemaText(s *refSchema) template.HTML {
	if s == nil {
		return ""
	}
	return template.HTML(schemaHTML(s))
}

func schemaHTML(s *refSchema) string {
	var parts []string
	switch {
	case s.Ref != "":
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		parts = append(parts, `<a href="#schema-`+html.EscapeString(name)+`">`+html.EscapeString(name)+`</a>`)
	case len(s.OneOf) > 0:
		var alts []string
		for _, o := range s.OneOf {
			alts = append(alts, schemaHTML(o))
		}
		parts = append(parts, strings.Join(alts, " or "))
	case len(s.AllOf) > 0:
		var all []string
		for _, o := range s.AllOf {
			all = append(all, schemaHTML(o))
		}
		parts = append(parts, strings.Join(all, " "))
	case len(s.Enum) > 0:
		var vals []string
		for _, v := range s.Enum {
			b, _ := json.Marshal(v)
			vals = append(vals, "<code>"+html.EscapeString(string(b))+"</code>")
		}
		parts = append(parts, "one of "+strings.Join(vals, ", "))
	default:
		var types []string
		switch t := s.Type.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				if x, ok := x.(string); ok {
					types = append(types, x)
				}
			}
		}
		for i, t := range types {
			switch {
			case t == "array" && s.Items != nil:
				types[i] = "array of " + schemaHTML(s.Items)
			case t == "object" && len(s.Properties) > 0 && s.Ref == "":
				var props []string
				for _, name := range sortedKeys(s.Properties) {
					props = append(props, "<code>"+html.EscapeString(name)+"</code>: "+schemaHTML(s.Properties[name]))
				}
				types[i] = "with " + strings.Join(props, ", ")
			default:
				types[i] = html.EscapeString(t)
			}
		}
		parts = append(parts, strings.Join(types, " or "))
		if s.Format != "" {
			parts = append(parts, "("+html.EscapeString(s.Format)+")")
		}
		if s.Pattern != "" {
			parts = append(parts, "matching <code>"+html.EscapeString(s.Pattern)+"</code>")
		}
	}
	return strings.Join(parts, " ")
}

// docsPage is the reference page's template, parsed on first use (by
// renderDocs) rather than as every command of the binary starts.
const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Doc.Info.Title}} API reference</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}code{background:#f4f4f4;padding:0 .2em}section{border-top:1px solid #ddd;margin-top:1.5em}.method{font-weight:bold;font-family:monospace}</style>
</head><body>
<h1>{{.Doc.Info.Title}} API reference</h1>
<p>Version {{.Doc.Info.Version}} · OpenAPI document: <a href="/openapi.json">/openapi.json</a></p>
{{prose .Doc.Info.Summary}}{{prose .Doc.Info.Description}}
{{range .Doc.Servers}}<p>Server: <code>{{.URL}}</code></p>{{prose .Description}}{{end}}
<h2>Contents</h2>
{{range .Doc.Tags}}<h3><a href="#tag-{{.Name}}">{{.Name}}</a></h3><ul>
{{range index $.Ops .Name}}<li><a href="#{{.Anchor}}"><span class="method">{{.Method}}</span> {{.Path}}</a>: {{.Op.Summary}}</li>
{{end}}</ul>{{end}}
<p><a href="#schemas">Schemas</a> · <a href="#security">Security</a></p>
{{range .Doc.Tags}}<section id="tag-{{.Name}}"><h2>{{.Name}}</h2>{{prose .Description}}
{{range index $.Ops .Name}}<section id="{{.Anchor}}">
<h3><span class="method">{{.Method}}</span> {{.Path}}</h3>
<p><strong>{{.Op.Summary}}</strong> (<code>{{.Op.OperationID}}</code>)</p>
{{prose .Op.Description}}
{{if .Op.Security}}<p>Security: {{range .Op.Security}}{{range $name, $scopes := .}}<a href="#security-{{$name}}">{{$name}}</a> {{end}}{{end}}</p>{{end}}
{{with .Op.Parameters}}<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>
{{range .}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{if .Required}}yes{{else}}no{{end}}</td><td>{{schema .Schema}}</td><td>{{prose .Description}}</td></tr>
{{end}}</table>{{end}}
{{with .Op.RequestBody}}<h4>Request body</h4>{{prose .Description}}<table><tr><th>content type</th><th>schema</th></tr>
{{range $ct, $m := .Content}}<tr><td><code>{{$ct}}</code></td><td>{{schema $m.Schema}}</td></tr>
{{end}}</table>{{end}}
<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>content</th></tr>
{{range $status, $r := .Op.Responses}}<tr><td>{{$status}}</td><td>{{prose $r.Description}}{{range $h, $hd := $r.Headers}}<p>Header <code>{{$h}}</code>: {{$hd.Description}}</p>{{end}}</td>
<td>{{range $ct, $m := $r.Content}}<p><code>{{$ct}}</code> {{schema $m.Schema}}</p>{{end}}</td></tr>
{{end}}</table>
</section>{{end}}</section>{{end}}
<section id="schemas"><h2>Schemas</h2>
{{range .Schemas}}<section id="schema-{{.Name}}"><h3>{{.Name}}</h3>
{{prose .Schema.Description}}{{with .Schema.APIVersions}}<p>Answered with api-version {{range $i, $v := .}}{{if $i}}, {{end}}<code>{{$v}}</code>{{end}}.</p>{{end}}
{{with .Schema.Props}}<table><tr><th>property</th><th>required</th><th>schema</th><th>description</th></tr>
{{range .}}<tr><td><code>{{.Name}}</code></td><td>{{if .Required}}yes{{else}}no{{end}}</td><td>{{schema .Schema}}</td><td>{{prose .Schema.Description}}</td></tr>
{{end}}</table>{{else}}<p>{{schema .Schema}}</p>{{end}}
</section>{{end}}</section>
<section id="security"><h2>Security</h2>
{{range $name, $s := .Doc.Components.SecuritySchemes}}<section id="security-{{$name}}"><h3>{{$name}}</h3><p>{{$s.Type}} {{$s.Scheme}}</p>{{prose $s.Description}}</section>{{end}}
</section>
</body></html>
`

// renderDocs renders the reference page of the embedded document, once.
var renderDocs = sync.OnceValues(func() ([]byte, error) {
	tmpl, err := template.New("docs").Funcs(template.FuncMap{"prose": prose, "schema": schemaText}).Parse(docsPage)
	if err != nil {
		return nil, err
	}
	var doc refDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, err
	}
	var page bytes.Buffer
	named := make([]refNamed, 0, len(doc.Components.Schemas))
	for _, name := range sortedKeys(doc.Components.Schemas) {
		named = append(named, refNamed{name, doc.Components.Schemas[name]})
	}
	err = tmpl.Execute(&page, map[string]any{"Doc": &doc, "Ops": doc.byTag(), "Schemas": named})
	return page.Bytes(), err
})

// docs serves GET /docs: the API reference, rendered from the OpenAPI
// document, with nothing fetched from elsewhere.
func docs(w http.ResponseWriter, out *outcome) {
	page, err := renderDocs()
	if err != nil {
		pageFailed(w, out, "reference page", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}
