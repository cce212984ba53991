package cli

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/seskit/ses/tool"
)

// List flattens repeated and comma-separated flag values: each item trimmed,
// empty ones dropped, duplicates (ignoring case) removed, order kept.
func List(values []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			key := strings.ToLower(item)
			if item == "" || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, item)
		}
	}
	return out
}

// CertFlag is a CERT flag's value and what it is for, as LoadCert takes it.
type CertFlag struct {
	// Flag and Spec are the flag ("--sign") and its value: a file, a
	// thumbprint, dev or none.
	Flag, Spec string
	// KeyFlag and KeyFile name the file holding the certificate's key when
	// it is in neither the certificate's file nor one beside it
	// ("--sign-key"); KeyFile "" means none.
	KeyFlag, KeyFile string
	// Purpose picks the dev certificate and the warnings.
	Purpose tool.Purpose
	// NeedKey makes a certificate without its private key an error.
	NeedKey bool
	// Host is, for PurposeServerAuth, the name clients connect to.
	Host string
}

// LoadCert resolves a CERT flag in the store, and warns on stderr when the
// certificate looks meant for another purpose. Failures are usage errors
// with hints naming the flag.
func (g *Globals) LoadCert(f CertFlag) (*tool.Credential, error) {
	store, err := g.OpenStore()
	if err != nil {
		return nil, err
	}
	cred, err := store.Load(f.Spec, f.Purpose)
	var unsafe *tool.UnsafeStoreError
	if errors.As(err, &unsafe) {
		return nil, StoreError(fmt.Errorf("%s %s: %w", f.Flag, f.Spec, err))
	}
	if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(f.Spec, `/\.`) {
		// Neither a file nor, with its 40 hex digits, a thumbprint.
		err = fmt.Errorf("%s is neither a file nor a thumbprint (40 hex digits)", f.Spec)
	}
	if err != nil {
		// The error names the file or thumbprint: the flag is all it needs.
		return nil, Usagef("%s: %v", f.Flag, err).
			Hint("%s takes a PEM, DER or PKCS#12 file, a thumbprint from `ses certs list`, dev, or none", f.Flag)
	}
	if f.KeyFile != "" {
		if cred == nil || strings.EqualFold(strings.TrimSpace(f.Spec), "dev") {
			return nil, Usagef("%s %s: %s names no certificate file to take a key for", f.KeyFlag, f.KeyFile, f.Spec)
		}
		if err := cred.UseKeyFile(f.KeyFile); err != nil {
			return nil, Usagef("%s: %v", f.KeyFlag, err)
		}
	}
	if cred == nil {
		return nil, nil
	}
	if f.NeedKey && cred.Key == nil {
		beside := tool.KeyFilesBeside(cred.File)
		return nil, Usagef("%s %s: certificate %s has no private key", f.Flag, f.Spec, cred.Thumbprint()).
			Hint("name the key file with %s FILE, or put it beside the certificate as %s or %s", f.KeyFlag, filepath.Base(beside[0]), filepath.Base(beside[1])).
			Hint("or give a PEM file holding the key too, or a PKCS#12 (.pfx) file")
	}
	for _, w := range tool.PurposeWarnings(cred.Certificate, f.Purpose, f.Host) {
		fmt.Fprintf(g.Stderr, "%s: warning: %s\n", g.prog(), tool.Printable(fmt.Sprintf("%s %s: %s", f.Flag, f.Spec, w)))
	}
	return cred, nil
}

// StoreError is err, a usage error, with hints when it is a store that
// another user could change (*tool.UnsafeStoreError).
func StoreError(err error) *Error {
	e := &Error{Code: ExitUsage, Err: err}
	var unsafe *tool.UnsafeStoreError
	if !errors.As(err, &unsafe) {
		return e
	}
	switch unsafe.Problem {
	case tool.StoreWritable:
		e.Hint("if it is yours, make it yours alone: chmod 700 %s", unsafe.Dir)
	case tool.StoreSymlink:
		e.Hint("name the folder it links to with --store DIR (or SES_HOME)")
	}
	return e.Hint("or use a store of your own: --store DIR (or SES_HOME), which ses makes 0700")
}

// ReadToken reads a token from an argument, "-" (stdin), a file, or the
// environment variable env, in that order, as people have it (see
// CleanToken).
func (g *Globals) ReadToken(arg, file, env string) (string, error) {
	var raw []byte
	switch {
	case arg == "-":
		b, err := io.ReadAll(io.LimitReader(g.Stdin, 2*tool.MaxTokenSize+4))
		if err != nil {
			return "", Usagef("reading the token from stdin: %v", err)
		}
		raw = b
	case arg != "":
		raw = []byte(arg)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", Usagef("reading the token: %v", err)
		}
		raw = b
	default:
		raw = []byte(g.Getenv(env))
		if strings.TrimSpace(string(raw)) == "" {
			return "", Usagef("no token given").
				Hint("pass it as an argument, - for stdin, --token-file FILE, or set %s", env)
		}
	}
	tok, err := CleanToken(raw)
	if err != nil {
		return "", Usagef("reading the token: %v", err)
	}
	if tok == "" {
		return "", Usagef("the token is empty")
	}
	return tok, nil
}

// CleanToken undoes what editors and shells put around a token: a byte
// order mark (UTF-8, or UTF-16 little- or big-endian as Notepad and
// PowerShell write, which is decoded), white space and line ends (CRLF)
// around it, and one pair of quotes around that.
func CleanToken(raw []byte) (string, error) {
	var text string
	switch {
	case bytes.HasPrefix(raw, []byte{0xff, 0xfe}), bytes.HasPrefix(raw, []byte{0xfe, 0xff}):
		body := raw[2:]
		if len(body)%2 != 0 {
			return "", errors.New("UTF-16 text (it starts with a byte order mark) of an odd number of bytes")
		}
		order := binary.ByteOrder(binary.LittleEndian)
		if raw[0] == 0xfe {
			order = binary.BigEndian
		}
		units := make([]uint16, len(body)/2)
		for i := range units {
			units[i] = order.Uint16(body[2*i:])
		}
		text = string(utf16.Decode(units))
	default:
		text = string(bytes.TrimPrefix(raw, []byte("\ufeff")))
	}
	text = strings.TrimSpace(text)
	if n := len(text); n >= 2 && (text[0] == '"' || text[0] == '\'') && text[n-1] == text[0] {
		text = strings.TrimSpace(text[1 : n-1])
	}
	return text, nil
}

// ParseTime reads a time flag (see tool.ParseTime) in local time.
func (g *Globals) ParseTime(flag, s string) (time.Time, error) {
	t, err := tool.ParseTime(s, g.Now(), time.Local)
	if err != nil {
		return t, Usagef("%s: %v", flag, err).Hint("a time is %s", tool.TimeForms)
	}
	return t, nil
}

// KeyFlags are the certificates a token is checked with, as `ses server`
// and `ses verify` take them.
type KeyFlags struct {
	Sign       string `help:"Certificate tokens must be signed with: a file, a thumbprint, dev, or none for unsigned tokens (default: ${default})." default:"dev" placeholder:"CERT"`
	Encrypt    string `help:"Certificate tokens must be encrypted to: a file, a thumbprint, dev, or none for unencrypted tokens (default: ${default})." default:"dev" placeholder:"CERT"`
	EncryptKey string `help:"The --encrypt certificate's private key, when it is in another file than the certificate and not beside it as NAME-key.pem or NAME.key." type:"path" placeholder:"FILE"`
}

// Verifier loads the certificates and returns the verifier, and the signing
// credential (nil with --sign none) for display.
func (f *KeyFlags) Verifier(g *Globals, issuer, audience string) (*tool.Verifier, *tool.Credential, error) {
	v := &tool.Verifier{Issuer: issuer, Audience: audience}
	sign, serr := g.LoadCert(CertFlag{Flag: "--sign", Spec: f.Sign, Purpose: tool.PurposeSigning})
	dec, derr := g.LoadCert(CertFlag{Flag: "--encrypt", Spec: f.Encrypt, KeyFlag: "--encrypt-key", KeyFile: f.EncryptKey,
		Purpose: tool.PurposeEncryption, NeedKey: true})
	if err := errors.Join(serr, derr); err != nil {
		return nil, nil, err // both problems, when both certificates have one
	}
	if sign != nil {
		v.Sign = sign.Certificate
	}
	v.Decrypt = dec
	return v, sign, nil
}
