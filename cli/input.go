package cli

import (
	"io"
	"os"
	"strings"
	"time"

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

// LoadCert resolves a CERT flag (a file, a thumbprint, dev or none) in the
// store. With needKey, a certificate without its private key is an error.
// Failures are usage errors with hints naming the flag.
func (g *Globals) LoadCert(flag, spec string, p tool.Purpose, needKey bool) (*tool.Credential, error) {
	store, err := g.OpenStore()
	if err != nil {
		return nil, err
	}
	cred, err := store.Load(spec, p)
	if err != nil {
		return nil, Usagef("%s %s: %v", flag, spec, err).
			Hint("%s takes a PEM or PKCS#12 file, a thumbprint from `ses certs list`, dev, or none", flag)
	}
	if cred != nil && needKey && cred.Key == nil {
		return nil, Usagef("%s %s: certificate %s has no private key", flag, spec, cred.Thumbprint()).
			Hint("give a PEM file holding the key too, or a PKCS#12 (.pfx) file")
	}
	return cred, nil
}

// ReadToken reads a token from an argument, "-" (stdin), a file, or the
// environment variable env, in that order, trimming white space.
func (g *Globals) ReadToken(arg, file, env string) (string, error) {
	var raw string
	switch {
	case arg == "-":
		b, err := io.ReadAll(io.LimitReader(g.Stdin, tool.MaxTokenSize+1))
		if err != nil {
			return "", Usagef("reading the token from stdin: %v", err)
		}
		raw = string(b)
	case arg != "":
		raw = arg
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", Usagef("reading the token: %v", err)
		}
		raw = string(b)
	default:
		raw = g.Getenv(env)
		if strings.TrimSpace(raw) == "" {
			return "", Usagef("no token given").
				Hint("pass it as an argument, - for stdin, --token-file FILE, or set %s", env)
		}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", Usagef("the token is empty")
	}
	return raw, nil
}

// ParseTime reads a time flag (see tool.ParseTime) in local time.
func (g *Globals) ParseTime(flag, s string) (time.Time, error) {
	t, err := tool.ParseTime(s, g.Now(), time.Local)
	if err != nil {
		return t, Usagef("%s: %v", flag, err).Hint("for example 2026-11-22T10:00:00Z, 2026-11-22T10:00, 2026-11-22, +2h or -1d")
	}
	return t, nil
}

// KeyFlags are the certificates a token is checked with, as `ses server`
// and `ses verify` take them.
type KeyFlags struct {
	Sign    string `help:"Certificate tokens must be signed with: a file, a thumbprint, dev, or none for unsigned tokens (default: ${default})." default:"dev" placeholder:"CERT"`
	Encrypt string `help:"Certificate tokens must be encrypted to: a file, a thumbprint, dev, or none for unencrypted tokens (default: ${default})." default:"dev" placeholder:"CERT"`
}

// Verifier loads the certificates and returns the verifier, and the signing
// credential (nil with --sign none) for display.
func (f *KeyFlags) Verifier(g *Globals, issuer, audience string) (*tool.Verifier, *tool.Credential, error) {
	v := &tool.Verifier{Issuer: issuer, Audience: audience}
	sign, err := g.LoadCert("--sign", f.Sign, tool.PurposeSigning, false)
	if err != nil {
		return nil, nil, err
	}
	if sign != nil {
		v.Sign = sign.Certificate
	}
	if v.Decrypt, err = g.LoadCert("--encrypt", f.Encrypt, tool.PurposeEncryption, true); err != nil {
		return nil, nil, err
	}
	return v, sign, nil
}
