// Package reverser is the string reverser of the Access Control
// walk-through: a small REST service, protected by wrapauth, that reverses
// the text posted to it for callers whose WRAP access token grants
// action=reverse. Run it with
//
//	go run ./wrapauth/reverser/cmd/reverser -cert tls.pem -issuer URL -audience URL -keys FILE
package reverser

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/wrapauth"
)

// Action is the value a token's action claim (tool.SWTClaimAction) must
// hold.
const Action = "reverse"

// maxText caps the text to reverse.
const maxText = 64 << 10

// Handler serves the reverser: POST /reverse answers the body's text
// reversed, to a caller whose token v accepts and grants Action (403
// otherwise); GET /healthz says ok to anyone.
func Handler(v *wrapauth.Validator) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /reverse", v.Handler(http.HandlerFunc(reverse)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

func reverse(w http.ResponseWriter, r *http.Request) {
	tok, _ := wrapauth.FromContext(r.Context())
	if !slices.Contains(tok.Values(tool.SWTClaimAction), Action) {
		http.Error(w, "the token does not grant "+tool.SWTClaimAction+"="+Action, http.StatusForbidden)
		return
	}
	text, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxText))
	if err != nil || !utf8.Valid(text) {
		http.Error(w, fmt.Sprintf("send at most %d bytes of UTF-8 text", maxText), http.StatusBadRequest)
		return
	}
	runes := []rune(string(text))
	slices.Reverse(runes)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, string(runes))
}

// Main runs the reverser with the command-line args and returns its exit
// status. It serves HTTPS until SIGINT or SIGTERM; SIGHUP reads the key
// file again (after a key rollover).
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("reverser", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8443", "address to listen on (port 0 picks a free one)")
	cert := fs.String("cert", "", "PEM file with the TLS certificate, its chain and its key (the store's dev/tls.pem will do)")
	issuer := fs.String("issuer", "", "the namespace's URL, which tokens must name as Issuer")
	audience := fs.String("audience", "", "this service's URL: the AppliesTo of its scope")
	keyFile := fs.String("keys", "", "file of the token policy's keys, current first (ses namespace policy show NAME --keys)")
	logFile := fs.String("log", "", "also write the log to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logw := stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "reverser: %v\n", err)
			return 2
		}
		defer f.Close()
		logw = io.MultiWriter(stderr, f)
	}
	logger := log.New(logw, "reverser: ", log.LstdFlags)
	if err := run(logger, *listen, *cert, *keyFile, wrapauth.Config{Issuer: *issuer, Audience: *audience}); err != nil {
		fmt.Fprintf(stderr, "reverser: %v\n", err)
		return 2
	}
	return 0
}

func run(logger *log.Logger, listen, certFile, keyFile string, cfg wrapauth.Config) error {
	if certFile == "" || keyFile == "" {
		return errors.New("-cert and -keys are required")
	}
	cert, err := tls.LoadX509KeyPair(certFile, certFile)
	if err != nil {
		return fmt.Errorf("-cert: %v", err)
	}
	if cfg.Keys, err = readKeys(keyFile); err != nil {
		return err
	}
	v, err := wrapauth.New(cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           Handler(v),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			keys, err := readKeys(keyFile)
			if err == nil {
				err = v.SetKeys(keys...)
			}
			if err != nil {
				logger.Printf("keys not reloaded, the old ones stay: %v", err)
				continue
			}
			logger.Printf("keys reloaded: %d", len(keys))
		}
	}()
	errs := make(chan error, 1)
	go func() { errs <- srv.ServeTLS(l, "", "") }()
	logger.Printf("server started url=https://%s audience=%s", l.Addr(), cfg.Audience)
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

func readKeys(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-keys: %v", err)
	}
	keys, err := wrapauth.ParseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("-keys %s: %v", path, err)
	}
	return keys, nil
}
