package testpki

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Store is a folder made once by Make and then copied whole, file modes
// kept, into each test's own folder. With Make calling the real store code,
// tests share one development PKI in whatever layout the store uses, instead
// of making one each.
type Store struct {
	// Make fills the empty folder dir.
	Make func(dir string) error

	mu  sync.Mutex
	dir string
}

// CopyTo copies the store into dst, making it first if needed.
func (s *Store) CopyTo(dst string) error {
	src, err := s.made()
	if err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

func (s *Store) made() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != "" {
		return s.dir, nil
	}
	dir, err := os.MkdirTemp("", "testpki-store-")
	if err != nil {
		return "", err
	}
	if err := s.Make(dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("making the shared store: %w", err)
	}
	s.dir = dir
	return dir, nil
}

// Remove deletes the store's folder; the next CopyTo makes it again.
func (s *Store) Remove() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.dir
	s.dir = ""
	if dir == "" {
		return nil
	}
	return os.RemoveAll(dir)
}
