package acs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWatch: a changed file is put in force; a broken one is reported
// once and the namespace in force stays; a signal reloads at once.
func TestWatch(t *testing.T) {
	orig, _ := os.ReadFile("testdata/namespace.yaml")
	path := filepath.Join(t.TempDir(), "ns.yaml")
	writeAtomic(t, path, orig)
	svc := NewService(mustLoad(t, path), Options{Path: path})
	reports := make(chan error, 10)
	hup := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		svc.Watch(ctx, 5*time.Millisecond, hup, func(err error) { reports <- err })
	}()
	defer wg.Wait()
	defer cancel()
	next := func() error {
		select {
		case err := <-reports:
			return err
		case <-time.After(time.Minute):
			t.Fatal("no reload within a minute")
			return nil
		}
	}

	// A new scope: in force after the reload.
	changed := strings.Replace(string(orig), "https://localhost:4443/admin", "https://localhost:4443/manage", 1)
	writeAtomic(t, path, []byte(changed))
	if err := next(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if svc.Namespace().match("https://localhost:4443/manage") == nil {
		t.Fatal("the new scope is not in force")
	}

	// A broken edit: reported with its line, the namespace stays.
	broken := strings.Replace(changed, "tokenPolicy: admin", "tokenPolicy: nosuch", 1)
	writeAtomic(t, path, []byte(broken))
	if err := next(); err == nil || !strings.Contains(err.Error(), `line 27: scopes.tokenPolicy: no token policy named "nosuch"`) {
		t.Fatalf("broken edit reported as %v", err)
	}
	if svc.Namespace().match("https://localhost:4443/manage") == nil {
		t.Fatal("the broken edit replaced the namespace in force")
	}
	// Reported once, not at every look; a signal tries again.
	select {
	case err := <-reports:
		t.Fatalf("reported again: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	hup <- syscall.SIGHUP
	if err := next(); err == nil {
		t.Fatal("the signal reloaded a broken file")
	}

	// Fixed: in force again.
	writeAtomic(t, path, orig)
	if err := next(); err != nil {
		t.Fatalf("reload after the fix: %v", err)
	}
	if svc.Namespace().match(adminScope) == nil {
		t.Fatal("the fixed file is not in force")
	}
}

// writeAtomic replaces the file at path, as the namespace commands do.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestChangedWaitsToSettle: a file caught mid-write (as an editor saves in
// place) is not read until it looks the same twice in a row.
func TestChangedWaitsToSettle(t *testing.T) {
	orig, _ := os.ReadFile("testdata/namespace.yaml")
	path := filepath.Join(t.TempDir(), "ns.yaml")
	os.WriteFile(path, orig, 0o600)
	svc := NewService(mustLoad(t, path), Options{Path: path})
	for i := 0; i < 2; i++ {
		if svc.changed() {
			t.Fatalf("look %d: the file in force counts as changed", i)
		}
	}
	changed := strings.Replace(string(orig), "lifetime: 1h", "lifetime: 2h", 1)
	os.WriteFile(path, []byte(changed[:len(changed)/2]), 0o600)
	if svc.changed() {
		t.Error("half a file was taken at first sight")
	}
	os.WriteFile(path, []byte(changed), 0o600)
	if svc.changed() {
		t.Error("the whole file was taken before it settled")
	}
	if !svc.changed() {
		t.Error("the settled change went unseen")
	}
	if svc.changed() {
		t.Error("the same change was seen twice")
	}
}
