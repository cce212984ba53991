package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// release is one "## [X.Y.Z] - DATE" section of CHANGELOG.md.
type release struct {
	version, date string
	body          string
}

// changelog reads CHANGELOG.md's sections, the Unreleased one first.
func changelog(t *testing.T) (unreleased string, releases []release, links map[string]bool) {
	t.Helper()
	data, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "# Changelog\n") {
		t.Fatal("CHANGELOG.md does not begin with # Changelog")
	}
	links = map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\[([^\]]+)\]: https://\S+$`).FindAllStringSubmatch(text, -1) {
		links[m[1]] = true
	}
	heading := regexp.MustCompile(`(?m)^## \[([^\]]+)\](.*)$`)
	locs := heading.FindAllStringSubmatchIndex(text, -1)
	if len(locs) == 0 || text[locs[0][2]:locs[0][3]] != "Unreleased" || locs[0][4] != locs[0][5] {
		t.Fatal("CHANGELOG.md's first section is not ## [Unreleased]")
	}
	section := func(i int) string {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		} else if j := strings.Index(text[locs[i][1]:], "\n["); j >= 0 {
			end = locs[i][1] + j
		}
		return strings.TrimSpace(text[locs[i][1]:end])
	}
	unreleased = section(0)
	dated := regexp.MustCompile(`^ - (\d{4}-\d{2}-\d{2})$`)
	for i := 1; i < len(locs); i++ {
		v, rest := text[locs[i][2]:locs[i][3]], text[locs[i][4]:locs[i][5]]
		m := dated.FindStringSubmatch(rest)
		if m == nil {
			t.Errorf("## [%s]%s: want ## [%s] - YYYY-MM-DD", v, rest, v)
			continue
		}
		releases = append(releases, release{version: v, date: m[1], body: section(i)})
	}
	return unreleased, releases, links
}

// semver is a version's numbers, for ordering; ok is false for a version
// that is not MAJOR.MINOR.PATCH.
func semver(v string) (n [3]int, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return n, false
	}
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || strconv.Itoa(x) != p {
			return n, false
		}
		n[i] = x
	}
	return n, true
}

// TestChangelog checks CHANGELOG.md's form: Keep a Changelog's sections
// and headings, semantic versions newest first, a link for each.
func TestChangelog(t *testing.T) {
	unreleased, releases, links := changelog(t)
	if len(releases) == 0 {
		t.Fatal("CHANGELOG.md has no release")
	}
	kinds := []string{"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
	sub := regexp.MustCompile(`(?m)^### (.*)$`)
	check := func(name, body string) {
		for _, m := range sub.FindAllStringSubmatch(body, -1) {
			if !slices.Contains(kinds, m[1]) {
				t.Errorf("[%s] has a section ### %s; Keep a Changelog's are %v", name, m[1], kinds)
			}
		}
		if !links[name] {
			t.Errorf("CHANGELOG.md has no link for [%s]", name)
		}
	}
	check("Unreleased", unreleased)
	for i, r := range releases {
		check(r.version, r.body)
		n, ok := semver(r.version)
		if !ok {
			t.Errorf("[%s] is not a semantic version MAJOR.MINOR.PATCH", r.version)
			continue
		}
		if !sub.MatchString(r.body) {
			t.Errorf("[%s] says nothing under ### Added, ### Changed, ...", r.version)
		}
		if i > 0 {
			prev, _ := semver(releases[i-1].version)
			if slices.Compare(prev[:], n[:]) <= 0 || releases[i-1].date < r.date {
				t.Errorf("[%s] - %s is not older than the release above it, [%s] - %s", r.version, r.date, releases[i-1].version, releases[i-1].date)
			}
		}
	}
}

// TestReleaseNotes checks that .ci/release-notes, which GoReleaser runs,
// prints a release's section of CHANGELOG.md and refuses a version that
// has none.
func TestReleaseNotes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash to run .ci/release-notes with")
	}
	_, releases, _ := changelog(t)
	for _, r := range releases {
		out, err := exec.Command(".ci/release-notes", "v"+r.version).Output()
		if err != nil {
			t.Fatalf(".ci/release-notes v%s: %v", r.version, err)
		}
		if got := strings.TrimSpace(string(out)); got != r.body {
			t.Errorf(".ci/release-notes v%s printed\n%s\nwant its section\n%s", r.version, got, r.body)
		}
	}
	out, err := exec.Command(".ci/release-notes", "0.0.0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `no notes for 0.0.0`) {
		t.Errorf(".ci/release-notes 0.0.0: %v %s, want it refused", err, out)
	}
	if out, err := exec.Command(".ci/release-notes", "Unreleased").Output(); err != nil || len(strings.TrimSpace(string(out))) == 0 {
		t.Errorf(".ci/release-notes Unreleased: %v %q", err, out)
	}
}
