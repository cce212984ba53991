package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"
)

// readmeBlock is a fenced block of README.md.
type readmeBlock struct {
	line    int    // the line of its opening fence, from 1
	info    string // the fence's info string: sh, console, yaml, ...
	section string // the <!-- section: NAME --> it is in; "top" before the first
	note    string // the HTML comment on the line before it, without <!-- -->
	lines   []string
}

var (
	readmeSection = regexp.MustCompile(`^<!-- section: (\S+) -->$`)
	readmeNote    = regexp.MustCompile(`^<!-- (.*) -->$`)
)

// readmeBlocks reads README.md's fenced blocks.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var open *readmeBlock
	section, prev := "top", ""
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case open != nil && line == "```":
			blocks = append(blocks, *open)
			open = nil
		case open != nil:
			open.lines = append(open.lines, line)
		case strings.HasPrefix(line, "```"):
			open = &readmeBlock{line: i + 1, info: strings.TrimPrefix(line, "```"), section: section}
			if m := readmeNote.FindStringSubmatch(prev); m != nil {
				open.note = m[1]
			}
		default:
			if m := readmeSection.FindStringSubmatch(line); m != nil {
				section = m[1]
			}
		}
		prev = line
	}
	if open != nil {
		t.Fatalf("README.md line %d: a block that does not end", open.line)
	}
	return blocks
}

// The notes a block may carry, on the line before its fence: a sh block
// the test cannot run, and a block that is a file of the repository.
const (
	notRunNote = "not run:"
	fileNote   = "file:"
)

var (
	// serverStart is a command that starts a server in the background
	// (before any comment): the test starts it on a free port instead.
	serverStart = regexp.MustCompile(`^\s*((?:ses|sestest)(?:\s+-\S+)*\s+server\b[^#&]*?)\s*&\s*(?:#.*)?$`)
	// serverCmd is any command that runs a server.
	serverCmd = regexp.MustCompile(`^\s*(?:ses|sestest)(?:\s+-\S+)*\s+server\b`)
	// background is a command run in the background.
	background = regexp.MustCompile(`&\s*(?:#[^'"]*)?$`)
	// defaultPort is the server's default URL as the examples give it.
	defaultPort = regexp.MustCompile(`(localhost|127\.0\.0\.1|\[::1\]):4443\b`)
)

// readmeScript is the testscript of one README.md section's sh blocks.
type readmeScript struct {
	script  strings.Builder
	files   []txtar.File
	chunk   strings.Builder // commands since the last server started
	first   int             // README.md line of the chunk's first command
	servers int
}

// add puts block b's commands in the script.
func (s *readmeScript) add(t *testing.T, b readmeBlock) {
	t.Helper()
	for i := 0; i < len(b.lines); i++ {
		start, cmd := i, b.lines[i]
		for strings.HasSuffix(b.lines[i], `\`) && i+1 < len(b.lines) {
			i++
			cmd += "\n" + b.lines[i]
		}
		line := b.line + 1 + start
		logical := strings.ReplaceAll(cmd, "\\\n", " ")
		if m := serverStart.FindStringSubmatch(logical); m != nil {
			if strings.Contains(m[1], "--url") {
				t.Errorf("README.md line %d: the test runs a server on a free port, which it cannot with --url", line)
			}
			s.flush()
			s.servers++
			name := fmt.Sprintf("readme-server-line-%d", line)
			s.files = append(s.files, txtar.File{Name: name + ".sh", Data: []byte(
				". ./readme.env\n" + s.portLine() +
					"exec " + s.local(m[1]) + " --url https://localhost:0 --log-file " + name + ".log\n")})
			fmt.Fprintf(&s.script, "# README.md line %d, on a free port: %s\n", line, m[1])
			fmt.Fprintf(&s.script, "exec bash %s.sh &server%d&\n", name, s.servers)
			fmt.Fprintf(&s.script, "serverurl README_SERVER_%d %s.log\n", s.servers, name)
			continue
		}
		if serverCmd.MatchString(logical) {
			t.Errorf("README.md line %d: a server in the foreground would never end; add & or mark the block %q", line, notRunNote)
		}
		if background.MatchString(logical) {
			t.Errorf("README.md line %d: the test runs only a ses or sestest server in the background", line)
		}
		if s.chunk.Len() == 0 {
			s.first = line
		}
		s.chunk.WriteString(s.local(cmd) + "\n")
	}
	s.flush()
}

// local points the examples' default URL at the latest server.
func (s *readmeScript) local(cmd string) string {
	if s.servers == 0 {
		return cmd
	}
	return defaultPort.ReplaceAllString(cmd, "$1:$${README_PORT}")
}

// portLine sets README_PORT to the port of the latest server.
func (s *readmeScript) portLine() string {
	if s.servers == 0 {
		return ""
	}
	return fmt.Sprintf("README_PORT=${README_SERVER_%d##*:}\n", s.servers)
}

// flush ends the chunk of commands: one bash script, which starts with the
// shell variables the previous chunk left and leaves its own for the next.
func (s *readmeScript) flush() {
	if strings.TrimSpace(s.chunk.String()) == "" {
		s.chunk.Reset()
		return
	}
	name := fmt.Sprintf("readme-line-%d.sh", s.first)
	s.files = append(s.files, txtar.File{Name: name, Data: []byte(
		"set -a\n. ./readme.env\n" + s.portLine() + s.chunk.String() + "export -p >readme.env\n")})
	fmt.Fprintf(&s.script, "# README.md line %d\nexec bash -e -o pipefail %s\n", s.first, name)
	s.chunk.Reset()
}

// TestReadmeExamples runs README.md's sh blocks as written, those of each
// section in one script, in order, with ses, sestest and sesclient on the
// PATH and a store holding the development PKI in ~/.config/ses, the
// default store on Linux. A command that fails fails the test. Two things
// differ from a terminal: a ses or sestest server started in the background
// listens on a free port, to which the later commands' localhost:4443 is
// pointed, so that tests run at once do not collide; and each command runs
// under bash's errexit and pipefail. A block the test cannot run has
// "<!-- not run: REASON -->" on the line before it.
func TestReadmeExamples(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("README.md's examples are bash, and there is no bash")
	}
	order := []string{}
	scripts := map[string]*readmeScript{}
	ran := 0
	for _, b := range readmeBlocks(t) {
		if b.info != "sh" {
			if strings.HasPrefix(b.note, notRunNote) {
				t.Errorf("README.md line %d: %q marks a %s block; only sh blocks are run", b.line, notRunNote, b.info)
			}
			continue
		}
		if reason, ok := strings.CutPrefix(b.note, notRunNote); ok {
			if strings.TrimSpace(reason) == "" {
				t.Errorf("README.md line %d: %q without the reason", b.line, notRunNote)
			}
			continue
		}
		if b.note != "" {
			t.Errorf("README.md line %d: the note %q before a sh block is neither %q nor %q", b.line, b.note, notRunNote+" REASON", fileNote+" PATH")
		}
		s := scripts[b.section]
		if s == nil {
			s = &readmeScript{}
			scripts[b.section] = s
			order = append(order, b.section)
		}
		s.add(t, b)
		ran++
	}
	if ran < 2 {
		t.Fatalf("README.md has %d sh blocks to run", ran)
	}
	if t.Failed() {
		return
	}

	dir := t.TempDir()
	for _, name := range order {
		s := scripts[name]
		s.files = append(s.files, txtar.File{Name: "readme.env"})
		archive := txtar.Format(&txtar.Archive{Comment: []byte(s.script.String()), Files: s.files})
		if err := os.WriteFile(filepath.Join(dir, name+".txtar"), archive, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if err := devStore.Remove(); err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(patience)
	if d, ok := t.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	testscript.Run(t, testscript.Params{
		Dir:      dir,
		Deadline: deadline,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			store := filepath.Join(home, ".config", "ses")
			env.Setenv("HOME", home)
			env.Setenv("SES_HOME", store)
			env.Setenv("GORACE", "atexit_sleep_ms=0 "+os.Getenv("GORACE"))
			return devStore.CopyTo(store)
		},
		RequireExplicitExec: true,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"serverurl": serverurl,
		},
	})
}

// TestReadmeFiles checks that every block of README.md marked
// "<!-- file: PATH -->" is that file of the repository, byte for byte, and
// that the namespace example is one of them.
func TestReadmeFiles(t *testing.T) {
	var checked []string
	for _, b := range readmeBlocks(t) {
		path, ok := strings.CutPrefix(b.note, fileNote)
		if !ok {
			continue
		}
		path = strings.TrimSpace(path)
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("README.md line %d: %v", b.line, err)
			continue
		}
		if got := strings.Join(b.lines, "\n") + "\n"; got != string(want) {
			t.Errorf("README.md line %d: the block is not %s; copy the file into it", b.line, path)
		}
		checked = append(checked, path)
	}
	if !slices.Contains(checked, "server/acs/testdata/namespace.yaml") {
		t.Errorf("no block of README.md is marked <!-- %s server/acs/testdata/namespace.yaml -->", fileNote)
	}
}

// TestGoReleaserVersion checks that README.md, .ci/run and .goreleaser.yaml
// name the same GoReleaser, so that the command the README gives is the one
// CI checks the configuration with.
func TestGoReleaserVersion(t *testing.T) {
	pinned := regexp.MustCompile(`github\.com/goreleaser/goreleaser/v2@(v\d+\.\d+\.\d+)`)
	where := map[string][]string{}
	for _, file := range []string{"README.md", ".ci/run", ".goreleaser.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := pinned.FindAllStringSubmatch(string(data), -1)
		if len(found) == 0 {
			t.Errorf("%s names no GoReleaser version (github.com/goreleaser/goreleaser/v2@vX.Y.Z)", file)
		}
		for _, m := range found {
			if !slices.Contains(where[m[1]], file) {
				where[m[1]] = append(where[m[1]], file)
			}
		}
	}
	if len(where) > 1 {
		t.Errorf("the GoReleaser versions differ: %v", where)
	}
}
